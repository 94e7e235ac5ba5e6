"""Accuracy on the labelled dev clips with the default config, in the held condition of the
footage's MANIFEST (last frame held 6 s: a fallen person stays down), by the MANIFEST rule;
person_down on the clips held 30 s. The per-condition figures are the benchmark's
(benchmarks/edge_accuracy.py); these tests keep them from sliding back."""

from functools import cache

import pytest

from benchmarks.edge_accuracy import Options, Run, load_notes, run_all
from edge.conditions import HELD, LONG_LIE, Condition
from edge.evaluate import load_clips
from shouwang.contracts import EventType, Phase
from tests.edge.footage import analysed, clip, clip_names, footage

pytestmark = [pytest.mark.slow, pytest.mark.data, pytest.mark.timeout(1800)]
"""Every clip of a condition is analysed in one test (70 clips, two at a time, variants made
with ffmpeg the first time): longer than the suite's 600 s a test on a busy 2-core box."""
MISSES_AT_MOST = 6
"""Of 42 falls held: small far people on a doorbell and a phone, a fall into a pond, a roll
off a bed and a nurse kneeling at once beside a fallen man are missed (docs/edge.md)."""
FALSE_ALARMS_AT_MOST = 3
"""Of 28 no-fall clips: lying down fast on purpose, a judo breakfall on a mat (both look like
falls, docs/edge.md says why), and a deep crouch behind a platform."""


@cache
def runs(condition: Condition, down_at_end: frozenset[str] | None = None) -> tuple[Run, ...]:
    """Every clip in `condition` (with `down_at_end`: those whose end footage_notes.csv says
    that of), analysed once per test session, two at a time."""
    clips = load_clips(footage())
    if down_at_end is not None:
        notes = load_notes()
        clips = [
            c for c in clips if c.name not in notes or notes[c.name].down_at_end in down_at_end
        ]
    done = tuple(run_all(clips, [condition], Options(), jobs=2))
    errors = {r.error for r in done if r.error}
    if errors:
        pytest.skip(f"clips could not be prepared: {'; '.join(sorted(errors))}")
    return done


def test_held_falls_are_found_in_time_with_few_false_alarms() -> None:
    held = runs(HELD)
    table = "\n".join(f"{r.clip}: {r.fall} {r.fall_frames}" for r in held)
    assert sum(r.fall == "missed" for r in held) <= MISSES_AT_MOST, table
    assert sum(r.fall == "false_alarm" for r in held) <= FALSE_ALARMS_AT_MOST, table
    first_set = [r for r in held if r.set == "first"]
    assert not [r for r in first_set if r.fall in ("missed", "false_alarm")], table


def test_person_down_for_everyone_left_on_the_floor_and_nobody_else() -> None:
    # The clips that end with someone down and those that end with nobody down; the ones
    # ending on a mat or unclearly are scored by neither assertion (the benchmark shows them).
    long_lie = runs(LONG_LIE, frozenset({"yes", "no"}))
    table = "\n".join(f"{r.clip}: {r.down} {r.down_frames}" for r in long_lie)
    assert not [r for r in long_lie if r.down == "false_alarm"], table
    expected = [r for r in long_lie if r.down in ("raised", "missed")]
    assert sum(r.down == "raised" for r in expected) >= 0.9 * len(expected), table


@pytest.mark.parametrize("name", clip_names("loiter"))
def test_loitering_is_reported_for_long_stays_only(name: str) -> None:
    events = [e.event for e in analysed(name) if e.event.type == EventType.LOITERING]
    starts = [e for e in events if e.phase == Phase.START]
    if clip(name).path.name.startswith("doorbell-frontdoor-short-dwell"):
        assert starts == [], "a 4 s stay at the door is no loitering"
        return
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
