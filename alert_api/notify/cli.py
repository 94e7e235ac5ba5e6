"""Command-line app of the notification dispatcher (`shouwang notify run`); heavy imports
happen inside the command."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

notify_app = typer.Typer(
    help="The notification dispatcher: notification jobs → Web Push and apprise URLs."
)
console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"error: {message}", soft_wrap=True, highlight=False, markup=False, style="red")
    return typer.Exit(code=2)


@notify_app.command("run")
def run(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML config file (default: $SHOUWANG_CONFIG)."),
    ] = None,
    consumer: Annotated[
        str | None, typer.Option(help="This worker's consumer name (default: notify.consumer).")
    ] = None,
    json_logs: Annotated[
        bool | None, typer.Option("--json-logs/--text-logs", help="Log format (default: auto).")
    ] = None,
) -> None:
    """Consume the notifications stream as one worker of the `notifier` consumer group."""
    from alert_api.notify.service import (
        MetricsPortBusy,
        build_notifier,
        run_notifier,
        serve_metrics,
    )
    from alert_api.notify.settings import NotifierSettings
    from records.migrate import SchemaOutdated
    from shouwang.logs import configure_logging
    from shouwang.settings import ConfigError

    overrides = {"notify": {"consumer": consumer}} if consumer else {}
    try:
        settings = NotifierSettings.load(config, **overrides)
        notifier = build_notifier(settings)
        serve_metrics(notifier, settings.notify.metrics_port)
    except (ConfigError, SchemaOutdated, MetricsPortBusy) as exc:
        raise _fail(str(exc)) from None
    configure_logging(settings.log_level, json_logs)
    run_notifier(notifier)
