"""Turn one received MQTT message into the Redis writes that store it (or dead-letter it)."""

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.snapshots import SnapshotStore, SnapshotTooLarge
from ingest.store import DeadLetter, HeartbeatUpdate, StatusUpdate, StreamAppend, Write
from shouwang.contracts import (
    BehaviourEvent,
    Clip,
    EdgeState,
    EdgeStatus,
    Heartbeat,
    Reason,
    Rejection,
    SensorReading,
    Snapshot,
    WireModel,
    decode,
)
from shouwang.partitions import Partitioner

SNAPSHOT_NOT_STORED = "snapshot_not_stored"
"""Dead-letter reason (beside the contract's `Reason`s) when a valid snapshot or clip could not be
saved."""


@dataclass(frozen=True, slots=True)
class Received:
    """A message as it came off the broker, with when and on which connection."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    retain: bool
    received_at: float
    connection: int


@dataclass(slots=True)
class Handled:
    """What to write for one message, and what to count."""

    kind: str
    writes: list[Write] = field(default_factory=list)
    observed_at: float | None = None
    rejected: str | None = None


class MessageHandler:
    """Validates messages against the wire contract and plans their writes."""

    def __init__(
        self,
        snapshots: SnapshotStore,
        *,
        max_payload_bytes: int,
        max_clip_payload_bytes: int,
        worker_id: str,
        partitioner: Partitioner | None = None,
    ) -> None:
        self.snapshots = snapshots
        self.max_payload_bytes = max_payload_bytes
        self.max_clip_payload_bytes = max_clip_payload_bytes
        self.worker_id = worker_id
        self.partition_of = partitioner.of if partitioner else lambda _site: None

    def handle(self, message: Received) -> Handled:
        """Plan the writes for `message`; invalid input becomes a dead letter, never an error."""
        try:
            topic, wire = decode(
                message.topic,
                message.payload,
                max_bytes=self.max_payload_bytes,
                max_clip_bytes=self.max_clip_payload_bytes,
            )
        except Rejection as rejection:
            return self._dead_letter(message, rejection.reason.value, rejection.detail)
        received_ms = int(message.received_at * 1000)
        kind = topic.kind.value
        if isinstance(wire, Heartbeat):
            update = HeartbeatUpdate(wire.site, wire.edge, wire.model_dump_json(), received_ms)
            return Handled(kind, [update], observed_at=wire.sent_at.timestamp())
        if isinstance(wire, Snapshot | Clip):
            return self._media(message, wire, received_ms)
        fields = self._stream_fields(message, wire, received_ms)
        # The payload exactly as published (validated above): cheaper than re-serialising,
        # and what the device sent is what the record shows.
        fields["payload"] = message.payload.decode("utf-8")
        append = StreamAppend(str(wire.idempotency_key), fields, self.partition_of(wire.site))
        handled = Handled(kind, [append])
        if isinstance(wire, BehaviourEvent | SensorReading):
            handled.observed_at = wire.observed_at.timestamp()
        elif isinstance(wire, EdgeStatus):
            handled.writes.append(_status_update(wire, received_ms))
        return handled

    def _media(self, message: Received, wire: Snapshot | Clip, received_ms: int) -> Handled:
        """Store a snapshot or a clip as a file and announce it on the stream."""
        received = datetime.fromtimestamp(message.received_at, UTC)
        snapshot = isinstance(wire, Snapshot)
        try:
            if isinstance(wire, Snapshot):
                path, size = self.snapshots.save(wire, received), len(wire.image_bytes())
            else:
                path, size = self.snapshots.save_clip(wire, received), len(wire.video_bytes())
        except SnapshotTooLarge as exc:
            reason = Reason.BAD_SNAPSHOT if snapshot else Reason.BAD_CLIP
            return self._dead_letter(message, reason.value, str(exc))
        except OSError as exc:
            return self._dead_letter(message, SNAPSHOT_NOT_STORED, f"could not write file: {exc}")
        fields = self._stream_fields(message, wire, received_ms)
        fields.update(event_id=wire.event_id, path=path.as_posix(), bytes=str(size))
        append = StreamAppend(str(wire.idempotency_key), fields, self.partition_of(wire.site))
        return Handled(wire.KIND.value, [append])

    @staticmethod
    def _stream_fields(message: Received, wire: WireModel, received_ms: int) -> dict[str, str]:
        kind_type = {
            BehaviourEvent: "type",
            SensorReading: "sensor_type",
            EdgeStatus: "state",
        }
        type_field = kind_type.get(type(wire))
        fields = {
            "kind": wire.KIND.value,
            "key": str(wire.idempotency_key),
            "site": wire.site,
            "source": wire.source,
            "topic": message.topic,
            "received_ms": str(received_ms),
        }
        if type_field:
            fields["type"] = str(getattr(wire, type_field))
        if isinstance(wire, BehaviourEvent):
            fields["phase"] = wire.phase.value
        return fields

    def _dead_letter(self, message: Received, reason: str, detail: str) -> Handled:
        fields = {
            "topic": message.topic,
            "reason": reason,
            "detail": detail[:2000],
            "payload_b64": base64.b64encode(message.payload).decode("ascii"),
            "received_ms": str(int(message.received_at * 1000)),
            "worker": self.worker_id,
            "qos": str(message.qos),
            "retain": "1" if message.retain else "0",
        }
        return Handled("invalid", [DeadLetter(fields)], rejected=reason)


def _status_update(status: EdgeStatus, received_ms: int) -> StatusUpdate:
    connected_ms = int(status.connected_at.timestamp() * 1000)
    return StatusUpdate(
        site=status.site,
        edge=status.edge,
        state=status.state.value,
        session_id=status.session_id,
        connected_at=status.connected_at.isoformat(),
        order=connected_ms * 2 + (1 if status.state is EdgeState.OFFLINE else 0),
        reason=status.reason or "",
        received_ms=received_ms,
    )
