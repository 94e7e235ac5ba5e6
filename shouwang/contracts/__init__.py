"""The Shouwang wire contract: MQTT topics and the messages published on them."""

from shouwang.contracts.clips import DEFAULT_MAX_CLIP_BYTES, DEFAULT_MAX_CLIP_PAYLOAD_BYTES, Clip
from shouwang.contracts.common import SCHEMA_VERSION, MessageKind, StrictModel, WireModel
from shouwang.contracts.decode import DEFAULT_MAX_PAYLOAD_BYTES, MODELS, Reason, Rejection, decode
from shouwang.contracts.events import (
    BehaviourEvent,
    BoundingBox,
    EventOrigin,
    EventType,
    ModelRef,
    Phase,
    SnapshotRef,
)
from shouwang.contracts.sensors import SensorReading, SensorType
from shouwang.contracts.snapshots import Snapshot
from shouwang.contracts.status import CameraHealth, CameraState, EdgeState, EdgeStatus, Heartbeat
from shouwang.contracts.topics import Topic, TopicError, build_topic, parse_topic, subscription

__all__ = [
    "DEFAULT_MAX_CLIP_BYTES",
    "DEFAULT_MAX_CLIP_PAYLOAD_BYTES",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "MODELS",
    "SCHEMA_VERSION",
    "BehaviourEvent",
    "BoundingBox",
    "CameraHealth",
    "CameraState",
    "Clip",
    "EdgeState",
    "EdgeStatus",
    "EventOrigin",
    "EventType",
    "Heartbeat",
    "MessageKind",
    "ModelRef",
    "Phase",
    "Reason",
    "Rejection",
    "SensorReading",
    "SensorType",
    "Snapshot",
    "SnapshotRef",
    "StrictModel",
    "Topic",
    "TopicError",
    "WireModel",
    "build_topic",
    "decode",
    "parse_topic",
    "subscription",
]
