"""What the gateways send on: wire messages for the broker, dead letters for Redis.

Every camera-event source turns its input into an `Outgoing` list (pure), and the shell
publishes it: events and snapshots as the edge agent does, device liveness as edge status
and heartbeats, and what cannot be used as dead letters with the reason.
"""

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from shouwang.contracts import (
    BehaviourEvent,
    EventOrigin,
    EventType,
    Phase,
    Snapshot,
    SnapshotRef,
    WireModel,
    build_topic,
)


class Unusable(ValueError):
    """Input from a camera that cannot be used; `reason` is the dead-letter reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


EVENT_NAMESPACE = uuid.UUID("5b0d2f0e-6c3a-4f65-9a8e-2d7f6a1c9e42")
"""Namespace of event ids derived from what a camera sent (a resent report keeps its id)."""


@dataclass(frozen=True, slots=True)
class Publish:
    """A wire message and how to publish it."""

    message: WireModel
    retain: bool = False
    confirm: bool = True
    """Wait for the broker's acknowledgement before answering the camera."""

    @property
    def topic(self) -> str:
        return build_topic(self.message.site, self.message.source, self.message.KIND)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Input that could not be used, with the reason (fields of the dead-letter stream)."""

    source: str
    """Where it came from: `gb28181/<device>/<method>`, `hikvision/<camera>`, …"""
    reason: str
    detail: str
    payload: bytes
    received_at: float

    def fields(self, worker: str) -> dict[str, str]:
        """The stream entry (the same fields as ingest's, `topic` naming the source)."""
        return {
            "topic": self.source,
            "reason": self.reason,
            "detail": self.detail[:2000],
            "payload_b64": base64.b64encode(self.payload[: 256 * 1024]).decode("ascii"),
            "received_ms": str(int(self.received_at * 1000)),
            "worker": worker,
        }


def display_name(text: str) -> str | None:
    """A device's name as the contract's display name: control characters dropped, at most
    100 characters; None when nothing is left."""
    kept = "".join(c for c in text if c.isprintable()).strip()[:100]
    return kept or None


def stable_id(*parts: object) -> str:
    """An event id that is the same each time the same report arrives."""
    return str(uuid.uuid5(EVENT_NAMESPACE, "|".join(str(p) for p in parts)))


def camera_event(
    *,
    event_id: str,
    episode_id: str,
    type_: EventType,
    phase: Phase,
    site: str,
    edge: str,
    camera: str,
    observed_at: datetime,
    started_at: datetime,
    attributes: dict[str, bool | int | float | str],
    zone: str | None = None,
    snapshot: Snapshot | None = None,
    camera_name: str = "",
) -> BehaviourEvent:
    """A wire event recognised by the camera itself (confidence 1: the camera decided), with
    the camera's display name when it has one."""
    ref = None
    if snapshot is not None:
        image = snapshot.image_bytes()
        ref = SnapshotRef(
            sha256=snapshot.sha256, bytes=len(image), width=snapshot.width, height=snapshot.height
        )
    return BehaviourEvent(
        schema_version=1,
        event_id=event_id,
        episode_id=episode_id,
        type=type_,
        phase=phase,
        origin=EventOrigin.CAMERA,
        site=site,
        edge=edge,
        camera=camera,
        camera_name=display_name(camera_name),
        observed_at=observed_at,
        started_at=min(started_at, observed_at),
        confidence=1.0,
        zone=zone,
        attributes={k: v for k, v in list(attributes.items())[:32]},
        snapshot=ref,
    )
