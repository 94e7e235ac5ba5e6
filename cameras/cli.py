"""`shouwang gb28181` and `shouwang camera-events`: the camera-event gateways."""

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


def camera_events(config: ConfigOption = None, json_logs: JsonLogsOption = None) -> None:
    """Hikvision ISAPI and Dahua events: an HTTP host cameras post to, and held event streams."""
    from cameras.vendors.service import run_camera_events
    from shouwang.logs import configure_logging

    settings = _settings(config)
    configure_logging(settings.log_level, json_logs)
    try:
        run_camera_events(settings)
    except (RuntimeError, OSError) as exc:
        raise fail(str(exc)) from None
