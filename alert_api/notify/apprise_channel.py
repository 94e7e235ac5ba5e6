"""The apprise channel: one URL per target (DingTalk, WeCom, Feishu, ntfy, e-mail, SMS
gateways…; every service apprise supports)."""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import apprise

from alert_api.notify.channel import Message, Result, Target
from records.types import Severity

NOTIFY_TYPES = {
    Severity.CRITICAL: apprise.NotifyType.FAILURE,
    Severity.HIGH: apprise.NotifyType.WARNING,
    Severity.MEDIUM: apprise.NotifyType.WARNING,
    Severity.LOW: apprise.NotifyType.INFO,
}


class _ThreadLog(logging.Handler):
    """Collects apprise's warnings and errors per thread: they are the only failure detail
    apprise gives, and several deliveries run at once."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        lines: list[str] | None = getattr(self._local, "lines", None)
        if lines is not None:
            lines.append(record.getMessage())

    @contextmanager
    def capture(self) -> Iterator[list[str]]:
        """The messages logged by apprise in this thread inside the block."""
        lines: list[str] = []
        self._local.lines = lines
        try:
            yield lines
        finally:
            self._local.lines = None


_log = _ThreadLog()
logging.getLogger("apprise").addHandler(_log)


class AppriseChannel:
    """Sends through apprise; a target apprise cannot parse is a permanent failure, a failed
    notification is retried (apprise does not say why it failed, only logs it)."""

    def __init__(self, asset: apprise.AppriseAsset | None = None) -> None:
        self.asset = asset or apprise.AppriseAsset(async_mode=False)

    def send(self, message: Message, target: Target) -> Result:
        """Notify the apprise URL `target.address`."""
        app = apprise.Apprise(asset=self.asset)
        with _log.capture() as lines:
            if not app.add(target.address):
                return Result.give_up(
                    f"apprise does not support this URL (channel {target.channel}); see "
                    "docs/notifications.md for the URL formats"
                )
            ok = app.notify(
                title=message.title, body=message.body, notify_type=NOTIFY_TYPES[message.severity]
            )
        if ok:
            return Result.sent()
        return Result.retry("; ".join(lines)[:500] or "apprise reported a failure")
