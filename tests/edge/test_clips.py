"""Accuracy on the labelled dev clips with the default config (the MANIFEST rule)."""

import pytest

from edge.evaluate import score
from shouwang.contracts import EventType, Phase
from tests.edge.footage import analysed, clip, clip_names

pytestmark = [pytest.mark.slow, pytest.mark.data]
ALLOWED_MISSES = 1


def _starts(name: str, type_: EventType) -> list[int]:
    return [
        e.frame for e in analysed(name) if e.event.type == type_ and e.event.phase == Phase.START
    ]


def test_falls_are_detected_in_time() -> None:
    names = clip_names("fall")
    results = [score(clip(name), _starts(name, EventType.FALL)) for name in names]
    table = "\n".join(f"{r.clip.name}: {r.outcome} {r.fall_frames}" for r in results)
    assert not [r for r in results if r.outcome == "false_alarm"], table
    assert sum(r.outcome == "missed" for r in results) <= ALLOWED_MISSES, table


@pytest.mark.parametrize("name", clip_names("no_fall") + clip_names("loiter"))
def test_no_fall_on_everyday_activity(name: str) -> None:
    assert _starts(name, EventType.FALL) == []


@pytest.mark.parametrize("name", clip_names("loiter"))
def test_loitering_is_reported(name: str) -> None:
    events = [e.event for e in analysed(name) if e.event.type == EventType.LOITERING]
    starts = [e for e in events if e.phase == Phase.START]
    assert starts, "no loitering event"
    assert all(e.attributes["dwell_s"] >= 10 for e in starts)
    assert all(e.zone == "frame" and e.snapshot is not None for e in starts)


@pytest.mark.parametrize("name", ["fall/urfd-fall-01.mp4"])
def test_fall_event_is_a_valid_wire_event_with_snapshot(name: str) -> None:
    fall = next(e for e in analysed(name) if e.event.type == EventType.FALL)
    assert fall.event.phase == Phase.START and fall.event.episode_id == fall.event.event_id
    assert fall.snapshot is not None and fall.snapshot.event_id == fall.event.event_id
    assert fall.event.snapshot is not None and fall.event.snapshot.sha256 == fall.snapshot.sha256
    assert fall.event.bbox is not None and fall.event.model is not None
    end = [e.event for e in analysed(name) if e.event.type == EventType.FALL][-1]
    assert end.phase == Phase.END and end.episode_id == fall.event.event_id
