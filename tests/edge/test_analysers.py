"""Analysers on synthetic tracks: the decisions, not the models."""

from datetime import UTC, datetime, timedelta

import numpy as np
import supervision as sv

from edge.analysers import (
    Finding,
    InactivityAnalyser,
    LoiteringAnalyser,
    Observation,
    UnattendedChildAnalyser,
)
from edge.analysers.age import HeightAgeEstimator
from edge.config import (
    CalibrationConfig,
    InactivityConfig,
    LoiteringConfig,
    UnattendedConfig,
    ZoneConfig,
)
from edge.zones import ZoneSet

SIZE = (200, 200)
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
STANDING = [90.0, 20.0, 110.0, 180.0]


def observe(
    t: float,
    boxes: list[list[float]],
    zones: ZoneSet | None = None,
    ids: list[int] | None = None,
) -> Observation:
    zones = zones or ZoneSet({}, SIZE)
    people = sv.Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), 0.9, np.float32),
    )
    people.tracker_id = np.array(ids or list(range(1, len(boxes) + 1)), dtype=int)
    return Observation(
        camera="cam-1",
        image=np.zeros((SIZE[1], SIZE[0], 3), np.uint8),
        index=round(t * 5),
        t=t,
        at=START + timedelta(seconds=t),
        detected=True,
        motion=False,
        people=people,
        zones=zones,
        in_zone=zones.membership(people),
    )


def run(
    analyser: object, script: list[tuple[float, list[list[float]]]], **kw: object
) -> list[Finding]:
    findings: list[Finding] = []
    for t, boxes in script:
        findings += analyser.observe(observe(t, boxes, **kw))  # type: ignore[attr-defined]
    return findings


def seconds(
    start: float, end: float, boxes: list[list[float]]
) -> list[tuple[float, list[list[float]]]]:
    return [(start + i / 5, boxes) for i in range(round((end - start) * 5))]


def test_loitering_counts_time_inside_only() -> None:
    zones = ZoneSet({"gate": ZoneConfig(polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)])}, SIZE)
    inside, outside = [[20.0, 20.0, 40.0, 180.0]], [[150.0, 20.0, 170.0, 180.0]]
    script = seconds(0, 6, inside) + seconds(6, 12, outside) + seconds(12, 18, inside)
    analyser = LoiteringAnalyser(LoiteringConfig(loitering_s=10, grace_s=3))
    assert run(analyser, script, zones=zones) == []
    script = seconds(20, 32, inside) + seconds(32, 37, outside)
    findings = run(analyser, script, zones=zones)
    assert [f.phase.value for f in findings] == ["start", "end"]
    assert findings[0].zone == "gate" and findings[0].attributes["dwell_s"] >= 10


def test_child_alone_by_the_water_but_not_with_an_adult() -> None:
    zones = ZoneSet(
        {"pond": ZoneConfig(polygon=[(0, 0), (1, 0), (1, 1), (0, 1)], tags=["water"])}, SIZE
    )
    calibration = CalibrationConfig(
        row_near=0.9, adult_height_near=0.8, row_far=0.1, adult_height_far=0.2
    )
    child = [90.0, 120.0, 110.0, 180.0]
    adult = [120.0, 30.0, 140.0, 190.0]
    config = UnattendedConfig(unattended_s=5)
    alone = UnattendedChildAnalyser(config, HeightAgeEstimator(calibration))
    findings = run(alone, seconds(0, 8, [child]), zones=zones)
    assert [f.attributes["age_group"] for f in findings] == ["child"]
    company = UnattendedChildAnalyser(config, HeightAgeEstimator(calibration))
    assert run(company, seconds(0, 8, [child, adult]), zones=zones) == []


def test_inactivity_in_a_home_zone_within_hours() -> None:
    zones = ZoneSet(
        {"room": ZoneConfig(polygon=[(0, 0), (1, 0), (1, 1), (0, 1)], tags=["home"])}, SIZE
    )
    config = InactivityConfig(enabled=True, inactive_s=60, start="08:00", end="20:00")
    analyser = InactivityAnalyser(config)
    quiet = [(float(t), []) for t in range(0, 90, 5)]
    findings = run(analyser, quiet, zones=zones)
    assert [f.phase.value for f in findings] == ["start"]
    (seen,) = run(analyser, [(95.0, [STANDING])], zones=zones)
    assert (seen.phase.value, seen.attributes["end_reason"]) == ("end", "activity")
    later = [(95.0 + t, boxes) for t, boxes in quiet]
    assert [f.phase.value for f in run(analyser, later, zones=zones)] == ["start"]
    (stopped,) = analyser.finish(observe(200.0, [], zones=zones))
    assert stopped.attributes["end_reason"] == "stopped"
