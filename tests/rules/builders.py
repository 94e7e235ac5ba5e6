"""Stream entries as ingest writes them (see ingest/handling.py), built from wire models."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shouwang.contracts import (
    BehaviourEvent,
    EdgeState,
    EdgeStatus,
    EventType,
    Phase,
    SensorReading,
    SensorType,
    SnapshotRef,
    build_topic,
)
from tests.records.village import SITE

NOON = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
"""Friday 27 November 2026, 12:00 in Shanghai."""
NIGHT = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
"""Friday 27 November 2026, 23:00 in Shanghai."""


def _fields(
    kind: str, key: str, source: str, type_: str, payload: str, at: datetime
) -> dict[str, str]:
    return {
        "kind": kind,
        "key": key,
        "site": SITE,
        "source": source,
        "topic": build_topic(SITE, source, kind),
        "received_ms": str(int(at.timestamp() * 1000)),
        "type": type_,
        "payload": payload,
    }


def event(
    type_: EventType | str,
    *,
    camera: str = "cam-home-wang",
    phase: Phase = Phase.START,
    at: datetime = NOON,
    started_at: datetime | None = None,
    confidence: float = 0.9,
    zone: str | None = None,
    tags: tuple[str, ...] = (),
    attributes: dict[str, Any] | None = None,
    event_id: str | None = None,
    episode_id: str | None = None,
    snapshot: bool = False,
    camera_name: str | None = None,
    zone_name: str | None = None,
) -> dict[str, str]:
    """An event entry; the event id is new unless given, the episode is the event's own."""
    event_id = event_id or str(uuid.uuid4())
    wire = BehaviourEvent(
        schema_version=1,
        event_id=event_id,
        episode_id=episode_id or event_id,
        type=EventType(type_),
        phase=phase,
        site=SITE,
        edge="edge-01",
        camera=camera,
        camera_name=camera_name,
        observed_at=at,
        started_at=started_at or at,
        confidence=confidence,
        zone=zone,
        zone_name=zone_name,
        zone_tags=tags,
        attributes=attributes or {},
        snapshot=SnapshotRef(sha256="0" * 64, bytes=100, width=10, height=10) if snapshot else None,
    )
    fields = _fields(
        "event", wire.idempotency_key, camera, wire.type.value, wire.model_dump_json(), at
    )
    fields["phase"] = phase.value
    return fields


def sensor(
    type_: SensorType | str,
    value: bool | float,
    *,
    device: str = "sos-wang",
    at: datetime = NOON,
    battery_pct: float | None = None,
    attributes: dict[str, Any] | None = None,
    device_name: str | None = None,
) -> dict[str, str]:
    """A sensor reading entry."""
    wire = SensorReading(
        schema_version=1,
        reading_id=str(uuid.uuid4()),
        site=SITE,
        device=device,
        device_name=device_name,
        sensor_type=SensorType(type_),
        observed_at=at,
        value=value,
        battery_pct=battery_pct,
        attributes=attributes or {},
    )
    return _fields(
        "sensor", wire.idempotency_key, device, wire.sensor_type.value, wire.model_dump_json(), at
    )


def status(state: EdgeState, *, edge: str = "edge-01", at: datetime = NOON) -> dict[str, str]:
    """An edge status entry (offline: a new session's last will)."""
    wire = EdgeStatus(
        schema_version=1,
        site=SITE,
        edge=edge,
        state=state,
        session_id=str(uuid.uuid4()),
        connected_at=at - timedelta(hours=1),
    )
    return _fields("status", wire.idempotency_key, edge, state.value, wire.model_dump_json(), at)


def snapshot(event_fields: dict[str, str], *, at: datetime = NOON) -> dict[str, str]:
    """The snapshot entry of an event entry."""
    return _evidence(event_fields, "snapshot", "jpg", 2048, at)


def clip(event_fields: dict[str, str], *, at: datetime = NOON) -> dict[str, str]:
    """The evidence-clip entry of an episode's start event, as ingest announces it."""
    return _evidence(event_fields, "clip", "mp4", 40960, at)


def _evidence(
    event_fields: dict[str, str], kind: str, extension: str, size: int, at: datetime
) -> dict[str, str]:
    """The entry of a file (`kind`: snapshot or clip) stored for an event entry."""
    event_id = event_fields["key"].removeprefix("event:")
    return {
        "kind": kind,
        "key": f"{kind}:{event_id}",
        "site": SITE,
        "source": event_fields["source"],
        "topic": build_topic(SITE, event_fields["source"], kind),
        "received_ms": str(int(at.timestamp() * 1000)),
        "event_id": event_id,
        "path": f"{SITE}/20261127/{event_id}.{extension}",
        "bytes": str(size),
    }
