"""Command-line app of the notification dispatcher (`shouwang notify run`); heavy imports
happen inside the command."""

from typing import Annotated

import typer

from shouwang.cli_helpers import ConfigOption, JsonLogsOption, console, fail

notify_app = typer.Typer(
    help="The notification dispatcher: notification jobs → Web Push and apprise URLs."
)


@notify_app.command("run")
def run(
    config: ConfigOption = None,
    consumer: Annotated[
        str | None, typer.Option(help="This worker's consumer name (default: notify.consumer).")
    ] = None,
    json_logs: JsonLogsOption = None,
) -> None:
    """Consume the notifications stream as one worker of the `notifier` consumer group."""
    from notify.service import build_notifier, run_notifier, serve_metrics
    from notify.settings import NotifierSettings
    from records.migrate import SchemaOutdated
    from shouwang.logs import configure_logging
    from shouwang.metrics_http import MetricsPortBusy
    from shouwang.settings import ConfigError

    overrides = {"notify": {"consumer": consumer}} if consumer else {}
    try:
        settings = NotifierSettings.load(config, **overrides)
        notifier = build_notifier(settings)
        serve_metrics(notifier, settings.notify.metrics_port)
    except (ConfigError, SchemaOutdated, MetricsPortBusy) as exc:
        raise fail(str(exc)) from None
    configure_logging(settings.log_level, json_logs)
    run_notifier(notifier)


@notify_app.command("test")
def test(
    url: Annotated[
        str, typer.Argument(help="Robot or apprise URL, e.g. dingtalk://SECRET@TOKEN/, ntfy://…")
    ],
    title: Annotated[str, typer.Option(help="Title of the test message.")] = "守望 测试通知",
    body: Annotated[
        str, typer.Option(help="Text of the test message.")
    ] = "这是一条测试通知：渠道配置正确。",
    timeout_s: Annotated[float, typer.Option(help="Longest wait for the service.")] = 10.0,
    config: ConfigOption = None,
) -> None:
    """Send a test message to one robot (DingTalk, WeCom, Feishu) or apprise URL (check a
    channel before putting it in the watch list); exit 1 if it was not accepted."""
    from notify.apprise_channel import AppriseChannel
    from notify.channel import Channel, Message, Target
    from notify.robots import ROBOT_CHANNELS, RobotChannel
    from notify.settings import NotifierSettings
    from notify.targets import apprise_channel, redact
    from records.base import utcnow
    from records.types import Severity
    from shouwang.settings import ConfigError

    channel = apprise_channel(url)
    if channel is None:
        raise fail(f"{url!r} is not an apprise URL (scheme://…); see docs/notifications.md")
    message = Message("test", 0, 0, Severity.LOW, title, body, utcnow())
    try:
        robots = NotifierSettings.load(config).notify_robots
    except ConfigError as exc:
        raise fail(str(exc)) from None
    sender: Channel = (
        RobotChannel(robots, timeout_s) if channel in ROBOT_CHANNELS else AppriseChannel(timeout_s)
    )
    result = sender.send(message, Target(channel, url))
    if not result.ok:
        console.print(f"not sent to {redact(url)}: {result.error}", markup=False, style="red")
        raise typer.Exit(code=1)
    typer.echo(f"sent to {redact(url)}")
