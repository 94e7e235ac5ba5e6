"""`shouwang gb28181`: the camera-event gateway for GB/T 28181 devices."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shouwang.cli_helpers import ConfigOption, JsonLogsOption, fail

if TYPE_CHECKING:
    from cameras.config import CamerasSettings


def _settings(config: Path | None) -> "CamerasSettings":
    from cameras.config import CamerasSettings
    from shouwang.settings import ConfigError

    try:
        return CamerasSettings.load(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def gb28181(
    config: ConfigOption = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes sharing the SIP port.")
    ] = 1,
    json_logs: JsonLogsOption = None,
) -> None:
    """GB/T 28181 SIP server: device registration, keepalives → edge status, alarms → events."""
    from cameras.gb28181.service import run_gateways
    from shouwang.logs import configure_logging

    settings = _settings(config)
    configure_logging(settings.log_level, json_logs)
    try:
        failed = run_gateways(settings, workers, json_logs)
    except (RuntimeError, OSError) as exc:
        raise fail(str(exc)) from None
    if failed:
        raise typer.Exit(code=1)
