"""The apprise channel: one URL per target (DingTalk, WeCom, Feishu, ntfy, e-mail, SMS
gateways…; every service apprise supports). Needs apprise 2 (per-call results and logs)."""

import apprise

from notify.channel import Message, Result, Target
from records.notifications import DeliveryError
from records.types import Severity

NOTIFY_TYPES = {
    Severity.CRITICAL: apprise.NotifyType.FAILURE,
    Severity.HIGH: apprise.NotifyType.WARNING,
    Severity.MEDIUM: apprise.NotifyType.WARNING,
    Severity.LOW: apprise.NotifyType.INFO,
}


class AppriseChannel:
    """Sends through apprise. A URL apprise cannot parse is a permanent failure; a failed or
    timed-out notification is retried (apprise reports why only in its log lines, which
    become the delivery's error). Apprise's service plugins are loaded when the channel is
    made, not by the first notification."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.asset = apprise.AppriseAsset(async_mode=False)
        apprise.NotificationManager().load_modules()  # once per process; seconds on a busy box

    def send(self, message: Message, target: Target) -> Result:
        """Notify the apprise URL `target.address`."""
        app = apprise.Apprise(asset=self.asset)
        if not app.add(target.address):
            return Result.give_up(
                f"apprise does not support this URL (channel {target.channel}); see "
                "docs/notifications.md for the URL formats",
                DeliveryError.INVALID_CHANNEL,
            )
        with app.notify(
            title=message.title,
            body=message.body,
            notify_type=NOTIFY_TYPES[message.severity],
            timeout=self.timeout_s,
        ) as result:
            if result:
                return Result.sent()
            lines = [entry.message for entry in result.logs() if entry.level != "DEBUG"]
            status = result.status.name.lower()
        error = "; ".join(lines)[:500] or f"apprise reported {status}"
        return Result.retry(error, DeliveryError.UNAVAILABLE)
