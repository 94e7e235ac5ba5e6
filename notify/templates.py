"""Template parameters of SMS and voice messages: the configured texts filled in from the
message (vendors send only approved templates, with these values in their variables)."""

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from notify.channel import Message
from records.types import SEVERITY_LABELS


def template_values(message: Message, zone: ZoneInfo) -> dict[str, str]:
    """What `{title}`, `{severity}`, `{place}`, `{time}` and `{alert_id}` stand for."""
    parts = message.body.split("｜")
    return {
        "title": message.title,
        "severity": SEVERITY_LABELS.get(message.severity.value, message.severity.value),
        "place": parts[1] if len(parts) > 1 else "",
        "time": message.created_at.astimezone(zone).strftime("%H:%M"),
        "alert_id": str(message.alert_id),
    }


def render_params(
    params: Mapping[str, str], message: Message, zone: ZoneInfo, max_chars: int
) -> dict[str, str]:
    """The template parameters for `message`, each cut to `max_chars` characters."""
    values = template_values(message, zone)
    return {name: text.format(**values)[:max_chars] for name, text in params.items()}


def positional(params: Mapping[str, str]) -> list[str]:
    """Parameters of a positional template (Tencent Cloud: {1}, {2}…), in the names' order."""
    return [params[name] for name in sorted(params, key=int)]
