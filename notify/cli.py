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
        str,
        typer.Argument(
            help="sms or voice (with --phone), or a robot or apprise URL, e.g. "
            "dingtalk://SECRET@TOKEN/, ntfy://…"
        ),
    ],
    phone: Annotated[
        str, typer.Option(help="Mobile number for sms and voice (the configured vendor).")
    ] = "",
    title: Annotated[str, typer.Option(help="Title of the test message.")] = "守望 测试通知",
    body: Annotated[
        str, typer.Option(help="Text of the test message.")
    ] = "这是一条测试通知：渠道配置正确。",
    timeout_s: Annotated[float, typer.Option(help="Longest wait for the service.")] = 10.0,
    config: ConfigOption = None,
) -> None:
    """Send a test message through one channel — an SMS or a call with the vendor and template
    of the config, a robot (DingTalk, WeCom, Feishu) or an apprise URL — before putting it in
    the watch list; exit 1 if it was not accepted."""
    from zoneinfo import ZoneInfo

    from notify.apprise_channel import AppriseChannel
    from notify.channel import Channel, Message, Target
    from notify.phones import mainland_mobile
    from notify.robots import ROBOT_CHANNELS, RobotChannel
    from notify.settings import NotifierSettings
    from notify.targets import PHONE_CHANNELS, SMS, apprise_channel, redact
    from notify.worker import sms_channel, voice_channel
    from records.base import utcnow
    from records.types import Severity
    from shouwang.settings import ConfigError

    try:
        settings = NotifierSettings.load(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    zone, message = (
        ZoneInfo(settings.notify.timezone),
        Message("test", 0, 0, Severity.LOW, title, body, "", "", utcnow()),
    )
    sender: Channel
    if url in PHONE_CHANNELS:
        number = mainland_mobile(phone)
        if number is None:
            raise fail(f"{url} needs --phone with a mainland mobile number (got {phone!r})")
        sender = (
            sms_channel(settings.notify_sms, zone, timeout_s)
            if url == SMS
            else voice_channel(settings.notify_voice, zone, timeout_s)
        )
        target, shown = Target(url, number), number
    else:
        channel = apprise_channel(url)
        if channel is None:
            raise fail(
                f"{url!r} is not sms, voice or a URL (scheme://…); see docs/notifications.md"
            )
        robot = channel in ROBOT_CHANNELS
        sender = (
            RobotChannel(settings.notify_robots, timeout_s) if robot else AppriseChannel(timeout_s)
        )
        target, shown = Target(channel, url), redact(url)
    result = sender.send(message, target)
    if not result.ok:
        console.print(f"not sent to {shown}: {result.error}", markup=False, style="red")
        raise typer.Exit(code=1)
    typer.echo(f"sent to {shown}")
