"""Template parameters of SMS and voice messages: the configured texts filled in from the
message (vendors send only approved templates, with these values in their variables)."""

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from notify.channel import Message
from records.types import SEVERITY_LABELS


def template_values(message: Message, zone: ZoneInfo) -> dict[str, str]:
    """What `{title}`, `{severity}`, `{place}`, `{lead}`, `{time}` and `{alert_id}` stand for."""
    place, lead = message.place, message.lead
    if place is None or lead is None:
        place, lead = composed(message.body, message.title)
    return {
        "title": message.title,
        "severity": SEVERITY_LABELS.get(message.severity.value, message.severity.value),
        "place": place,
        "lead": lead,
        "time": message.created_at.astimezone(zone).strftime("%H:%M"),
        "alert_id": str(message.alert_id),
    }


def composed(body: str, title: str) -> tuple[str, str]:
    """The place and lead of a body the rules engine composed around `title`
    (`【label】[lead｜]title｜[place｜]when`), for jobs queued before they carried them; ""
    for what the body does not say."""
    parts = body.split("｜")
    parts[0] = parts[0].split("】", 1)[-1]
    if title not in parts:
        return "", ""
    at = parts.index(title)
    return "｜".join(parts[at + 1 : -1]), "｜".join(parts[:at])


def render_params(
    params: Mapping[str, str], message: Message, zone: ZoneInfo, max_chars: int
) -> dict[str, str]:
    """The template parameters for `message`, each cut to `max_chars` characters."""
    values = template_values(message, zone)
    return {name: text.format(**values)[:max_chars] for name, text in params.items()}


def positional(params: Mapping[str, str]) -> list[str]:
    """Parameters of a positional template (Tencent Cloud: {1}, {2}…), in the names' order."""
    return [params[name] for name in sorted(params, key=int)]
