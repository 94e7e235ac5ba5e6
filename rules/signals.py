"""Entries of the events stream, read into what the rules need (see ingest/handling.py)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rules.definitions import Kind
from shouwang.contracts import BehaviourEvent, EdgeState, EdgeStatus, Phase, SensorReading


class BadEntry(ValueError):
    """An entry the rules cannot read (missing fields, payload not the contract)."""


@dataclass(frozen=True, slots=True)
class Signal:
    """An event, sensor reading or edge status, as the rules see it."""

    kind: Kind
    key: str
    """Idempotency key from ingest (`event:<id>`, `sensor:…`, `status:…`)."""
    entry_id: str
    site: str
    source: str
    """Camera, device or edge id."""
    type: str
    phase: Phase
    episode_key: str
    """Shared by an episode's start, updates and end (events: the episode id; edge status:
    the edge; sensor readings are their own episode)."""
    observed_at: datetime
    started_at: datetime
    confidence: float | None = None
    zone: str | None = None
    zone_tags: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    value: bool | float | None = None
    battery_pct: float | None = None
    event_id: str | None = None
    has_snapshot: bool = False
    origin: str | None = None
    """Events: `analyser` (Shouwang's own) or `camera` (the camera's own analytics)."""
    source_name: str | None = None
    """What people call the source (a camera's, sensor's or person's name), when known."""
    zone_name: str | None = None
    """What people call the zone, when the camera says."""

    @property
    def condition(self) -> str:
        """The type of the condition this belongs to: an edge's `online` ends its `offline`."""
        return EdgeState.OFFLINE.value if self.kind is Kind.STATUS else self.type

    @property
    def duration_s(self) -> float:
        """How long the episode has lasted so far."""
        return (self.observed_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class ClipNote:
    """An evidence clip stored by ingest for an episode's start event (sent after it)."""

    entry_id: str
    event_id: str
    path: str


@dataclass(frozen=True, slots=True)
class SnapshotNote:
    """A snapshot stored by ingest for an event (either may arrive first)."""

    entry_id: str
    event_id: str
    path: str
    bytes: int
    received_at: datetime


def _require(fields: dict[str, str], name: str) -> str:
    try:
        return fields[name]
    except KeyError:
        raise BadEntry(f"entry has no {name!r} field") from None


def read_entry(entry_id: str, fields: dict[str, str]) -> Signal | SnapshotNote | ClipNote | None:
    """What an entry holds for the rules; None for kinds the rules ignore."""
    kind = _require(fields, "kind")
    if kind == "snapshot":
        received_ms = int(_require(fields, "received_ms"))
        return SnapshotNote(
            entry_id=entry_id,
            event_id=_require(fields, "event_id"),
            path=_require(fields, "path"),
            bytes=int(_require(fields, "bytes")),
            received_at=datetime.fromtimestamp(received_ms / 1000, UTC),
        )
    if kind == "clip":
        return ClipNote(entry_id, _require(fields, "event_id"), _require(fields, "path"))
    if kind not in ("event", "sensor", "status"):
        return None
    payload = _require(fields, "payload")
    try:
        if kind == "event":
            return _event(entry_id, BehaviourEvent.model_validate_json(payload))
        if kind == "sensor":
            return _sensor(entry_id, SensorReading.model_validate_json(payload))
        return _status(entry_id, EdgeStatus.model_validate_json(payload), fields)
    except ValueError as exc:
        raise BadEntry(f"{kind} payload does not match the contract: {exc}") from None


def _event(entry_id: str, event: BehaviourEvent) -> Signal:
    return Signal(
        kind=Kind.EVENT,
        key=event.idempotency_key,
        entry_id=entry_id,
        site=event.site,
        source=event.camera,
        type=event.type.value,
        phase=event.phase,
        episode_key=f"episode:{event.episode_id}",
        observed_at=event.observed_at,
        started_at=event.started_at,
        confidence=event.confidence,
        zone=event.zone,
        zone_tags=event.zone_tags,
        attributes=dict(event.attributes),
        event_id=event.event_id,
        has_snapshot=event.snapshot is not None,
        origin=event.origin.value,
        source_name=event.camera_name,
        zone_name=event.zone_name,
    )


def _sensor(entry_id: str, reading: SensorReading) -> Signal:
    return Signal(
        kind=Kind.SENSOR,
        key=reading.idempotency_key,
        entry_id=entry_id,
        site=reading.site,
        source=reading.device,
        type=reading.sensor_type.value,
        phase=Phase.START,
        episode_key=reading.idempotency_key,
        observed_at=reading.observed_at,
        started_at=reading.observed_at,
        attributes=dict(reading.attributes),
        value=reading.value,
        battery_pct=reading.battery_pct,
        source_name=reading.device_name,
    )


def _status(entry_id: str, status: EdgeStatus, fields: dict[str, str]) -> Signal:
    # An edge's `offline` starts an episode that its next `online` ends. Status messages carry
    # no observation time of their own; when ingest received it is when it became known.
    received = datetime.fromtimestamp(int(_require(fields, "received_ms")) / 1000, UTC)
    offline = status.state is EdgeState.OFFLINE
    return Signal(
        kind=Kind.STATUS,
        key=status.idempotency_key,
        entry_id=entry_id,
        site=status.site,
        source=status.edge,
        type=status.state.value,
        phase=Phase.START if offline else Phase.END,
        episode_key=f"edge:{status.site}:{status.edge}",
        observed_at=received,
        started_at=received,
        attributes={"reason": status.reason} if status.reason else {},
    )
