"""Channel names of notification targets, and how targets appear in logs (tokens hidden)."""

from urllib.parse import urlsplit

from records.channel_order import PHONE_CHANNELS

WEBPUSH = "webpush"
"""The channel entry meaning: every push subscription of the recipient."""
SMS, VOICE = PHONE_CHANNELS
"""A text message to the recipient's mobile number (`notify_sms`); a call to it that reads
the message (`notify_voice`)."""


def apprise_channel(url: str) -> str | None:
    """The channel of an apprise URL (its scheme, lower case), None if it is not a URL."""
    scheme, separator, _ = url.partition("://")
    if not separator or not scheme or not scheme.replace("+", "").replace("-", "").isalnum():
        return None
    return scheme.lower()


def redact(address: str) -> str:
    """A target fit for logs: scheme and host only (paths, users and passwords hold tokens)."""
    parts = urlsplit(address)
    if not parts.scheme:
        return "(none)"
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}/…" if host else f"{parts.scheme}://…"
