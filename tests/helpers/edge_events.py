"""Valid behaviour events and snapshots for edge publisher tests."""

from datetime import UTC, datetime, timedelta

from shouwang.contracts import SCHEMA_VERSION, BehaviourEvent, EventType, Phase, Snapshot
from shouwang.contracts.examples import TINY_JPEG


def make_event(
    site: str,
    edge: str,
    event_id: str,
    *,
    camera: str = "cam-01",
    phase: Phase = Phase.START,
    episode_id: str | None = None,
) -> BehaviourEvent:
    """A fall event with the given id."""
    now = datetime.now(UTC)
    return BehaviourEvent(
        schema_version=SCHEMA_VERSION,
        event_id=event_id,
        episode_id=episode_id or event_id,
        type=EventType.FALL,
        phase=phase,
        site=site,
        edge=edge,
        camera=camera,
        observed_at=now,
        started_at=now - timedelta(seconds=2),
        confidence=0.9,
    )


def make_snapshot(event: BehaviourEvent) -> Snapshot:
    """A tiny JPEG snapshot belonging to `event`."""
    return Snapshot.from_jpeg(
        TINY_JPEG,
        event_id=event.event_id,
        site=event.site,
        camera=event.camera,
        width=1,
        height=1,
    )
