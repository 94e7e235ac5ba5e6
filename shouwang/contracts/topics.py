"""MQTT topic names: `shouwang/v1/<site>/<source>/<kind>`."""

import re
from dataclasses import dataclass

from shouwang.contracts.common import MessageKind

TOPIC_ROOT = "shouwang"
TOPIC_VERSION = "v1"
_LEVEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TopicError(ValueError):
    """A topic that is not a Shouwang topic; `reason` is a `Reason` value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Topic:
    """A parsed topic. `source` is the camera, device or edge id, depending on `kind`."""

    site: str
    source: str
    kind: MessageKind

    def __str__(self) -> str:
        return f"{TOPIC_ROOT}/{TOPIC_VERSION}/{self.site}/{self.source}/{self.kind.value}"


def build_topic(site: str, source: str, kind: MessageKind | str) -> str:
    """The topic a message of `kind` from `source` at `site` is published on."""
    for name, level in (("site", site), ("source", source)):
        if not _LEVEL.match(level):
            raise ValueError(f"{name} {level!r} is not a valid topic level")
    return str(Topic(site, source, MessageKind(kind)))


def parse_topic(topic: str) -> Topic:
    """Split a topic into site, source and kind; raise TopicError with the reason otherwise."""
    levels = topic.split("/")
    if len(levels) != 5 or levels[0] != TOPIC_ROOT:
        raise TopicError(
            "bad_topic", f"topic {topic!r} is not {TOPIC_ROOT}/<version>/<site>/<source>/<kind>"
        )
    _, version, site, source, kind = levels
    if version != TOPIC_VERSION:
        raise TopicError(
            "unsupported_version",
            f"topic version {version!r} is not supported (this service reads {TOPIC_VERSION})",
        )
    for name, level in (("site", site), ("source", source)):
        if not _LEVEL.match(level):
            raise TopicError("bad_topic", f"topic {name} level {level!r} is not a valid id")
    try:
        message_kind = MessageKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in MessageKind)
        raise TopicError("unknown_kind", f"unknown kind {kind!r} (known: {known})") from None
    return Topic(site, source, message_kind)


def subscription(kind: MessageKind | None = None, site: str = "+") -> str:
    """Topic filter for every message of `kind` (or every kind) at `site` (or every site)."""
    return f"{TOPIC_ROOT}/{TOPIC_VERSION}/{site}/+/{kind.value if kind else '+'}"
