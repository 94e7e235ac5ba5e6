"""Turn a raw MQTT message into a validated wire message, or say exactly why not."""

from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from shouwang.contracts.clips import DEFAULT_MAX_CLIP_PAYLOAD_BYTES, Clip
from shouwang.contracts.common import SCHEMA_VERSION, MessageKind, WireModel
from shouwang.contracts.events import BehaviourEvent
from shouwang.contracts.sensors import SensorReading
from shouwang.contracts.snapshots import Snapshot
from shouwang.contracts.status import EdgeStatus, Heartbeat
from shouwang.contracts.topics import Topic, TopicError, parse_topic

DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024

MODELS: dict[MessageKind, type[WireModel]] = {
    MessageKind.EVENT: BehaviourEvent,
    MessageKind.SENSOR: SensorReading,
    MessageKind.STATUS: EdgeStatus,
    MessageKind.HEARTBEAT: Heartbeat,
    MessageKind.SNAPSHOT: Snapshot,
    MessageKind.CLIP: Clip,
}


class Reason(StrEnum):
    """Why a message was rejected; stored with every dead letter."""

    OVERSIZE = "oversize"
    EMPTY = "empty"
    BAD_TOPIC = "bad_topic"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_KIND = "unknown_kind"
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_SCHEMA_VERSION = "missing_schema_version"
    UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
    MISSING_FIELD = "missing_field"
    UNEXPECTED_FIELD = "unexpected_field"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    INVALID_VALUE = "invalid_value"
    NAIVE_TIMESTAMP = "naive_timestamp"
    BAD_SNAPSHOT = "bad_snapshot"
    BAD_CLIP = "bad_clip"
    TOPIC_MISMATCH = "topic_mismatch"


class Rejection(Exception):
    """A message that breaks the wire contract."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


_TYPE_ERRORS = {"int_from_float", "none_required", "is_instance_of", "union_tag_invalid"}
_RANGE_ERRORS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_long",
    "too_short",
    "string_too_long",
    "string_too_short",
}


def _path(error: ErrorDetails) -> str:
    return ".".join(str(part) for part in error["loc"]) or "(payload)"


def _reason_for(error: ErrorDetails) -> Reason:
    kind = error["type"]
    if kind == "missing":
        return Reason.MISSING_FIELD
    if kind == "extra_forbidden":
        return Reason.UNEXPECTED_FIELD
    if kind == "finite_number":
        return Reason.NOT_FINITE
    if kind == "timezone_aware":
        return Reason.NAIVE_TIMESTAMP
    if kind in _RANGE_ERRORS:
        return Reason.OUT_OF_RANGE
    if kind in _TYPE_ERRORS or kind.endswith("_type") or kind.endswith("_parsing"):
        return Reason.WRONG_TYPE
    return Reason.INVALID_VALUE


def _rejection_from(exc: ValidationError, model: type[WireModel]) -> Rejection:
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return Rejection(Reason.INVALID_JSON, f"not valid JSON: {first['msg']}")
    if first["type"] in {"model_type", "model_attributes_type"} and not first["loc"]:
        return Rejection(Reason.NOT_AN_OBJECT, "payload must be a JSON object")
    for error in errors:
        if error["loc"] == ("schema_version",):
            if error["type"] == "missing":
                return Rejection(Reason.MISSING_SCHEMA_VERSION, "schema_version is missing")
            return Rejection(
                Reason.UNSUPPORTED_SCHEMA_VERSION,
                f"schema_version {error.get('input')!r} is not supported "
                f"(this service reads {SCHEMA_VERSION})",
            )
    reason = _reason_for(first)
    if first["type"] == "value_error" and model in _MEDIA_REASONS:
        reason = _MEDIA_REASONS[model]
    details = "; ".join(f"{_path(e)}: {e['msg']}" for e in errors[:5])
    if len(errors) > 5:
        details += f"; … {len(errors) - 5} more"
    return Rejection(reason, details)


_MEDIA_REASONS: dict[type[WireModel], Reason] = {
    Snapshot: Reason.BAD_SNAPSHOT,
    Clip: Reason.BAD_CLIP,
}

_ADAPTERS: dict[MessageKind, TypeAdapter[Any]] = {
    kind: TypeAdapter(model) for kind, model in MODELS.items()
}


def decode(
    topic: str,
    payload: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    max_clip_bytes: int = DEFAULT_MAX_CLIP_PAYLOAD_BYTES,
) -> tuple[Topic, WireModel]:
    """Validate `payload` received on `topic`; raise Rejection with the reason if it is bad.

    Clips (`…/clip`) may be up to `max_clip_bytes`, every other kind up to `max_bytes`.
    """
    limit = max_clip_bytes if topic.endswith(f"/{MessageKind.CLIP.value}") else max_bytes
    if len(payload) > limit:
        raise Rejection(Reason.OVERSIZE, f"payload is {len(payload)} bytes, limit {limit}")
    try:
        parsed_topic = parse_topic(topic)
    except TopicError as exc:
        raise Rejection(Reason(exc.reason), exc.detail) from None
    if not payload:
        raise Rejection(Reason.EMPTY, "payload is empty")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        detail = f"payload is not UTF-8: {exc.reason} at byte {exc.start}"
        raise Rejection(Reason.NOT_UTF8, detail) from None
    model = MODELS[parsed_topic.kind]
    try:
        message: WireModel = _ADAPTERS[parsed_topic.kind].validate_json(text)
    except ValidationError as exc:
        raise _rejection_from(exc, model) from None
    if message.site != parsed_topic.site:
        raise Rejection(
            Reason.TOPIC_MISMATCH,
            f"payload site {message.site!r} but topic says {parsed_topic.site!r}",
        )
    if message.source != parsed_topic.source:
        raise Rejection(
            Reason.TOPIC_MISMATCH,
            f"payload {message.SOURCE_FIELD} {message.source!r} "
            f"but topic says {parsed_topic.source!r}",
        )
    return parsed_topic, message
