"""The fall and person-down analyser on synthetic scenes, one test per failure kind found in
the field (docs/edge.md): the decisions and the frame they are made on, not the models."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import supervision as sv

from edge.analysers import FallAnalyser, Finding, Observation
from edge.config import FallConfig, ZoneConfig
from edge.detect.base import CLASS_SCORES, KEYPOINTS
from edge.zones import ZoneSet

SIZE = (400, 300)
START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
STANDING = (190.0, 60.0, 220.0, 240.0)
LYING = (120.0, 200.0, 290.0, 245.0)
Box = tuple[float, float, float, float]


@dataclass
class Frame:
    """What the models saw at `t`: tracked pose boxes by track id, pose boxes the tracker did
    not confirm, and the fall model's boxes with (Fall, Normal) scores when it was asked."""

    t: float
    tracked: dict[int, Box] = field(default_factory=dict)
    untracked: list[Box] = field(default_factory=list)
    fall: list[tuple[Box, float, float]] | None = None
    moved: bool = False
    closer: list[Box] = field(default_factory=list)
    """Boxes a closer look found where the frame lost someone small."""
    poses: dict[int, np.ndarray] = field(default_factory=dict)
    """COCO keypoints (17 × x, y, confidence) of tracked people, by track id."""


def detections(boxes: list[Box]) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), 0.8, np.float32),
    )


def observation(frame: Frame, zones: ZoneSet) -> Observation:
    people = detections(list(frame.tracked.values()))
    people.tracker_id = np.array(list(frame.tracked), dtype=int)
    if frame.poses:
        unseen = np.zeros((17, 3), np.float32)
        people.data[KEYPOINTS] = np.array([frame.poses.get(k, unseen) for k in frame.tracked])
    opinion = None
    if frame.fall is not None:
        opinion = detections([box for box, _, _ in frame.fall])
        opinion.data[CLASS_SCORES] = np.array(
            [[normal, fall] for _, fall, normal in frame.fall], np.float32
        ).reshape(-1, 2)
    mask = np.full((75, 100), frame.moved, dtype=bool)
    return Observation(
        camera="cam-1",
        image=np.zeros((SIZE[1], SIZE[0], 3), np.uint8),
        index=round(frame.t * 5),
        t=frame.t,
        at=START + timedelta(seconds=frame.t),
        detected=True,
        motion=frame.moved,
        people=people,
        zones=zones,
        in_zone=zones.membership(people),
        motion_mask=mask,
        second_opinion=opinion,
        untracked=detections(frame.untracked),
        found_closer=detections(frame.closer),
    )


def run(frames: list[Frame], config: FallConfig | None = None, zones: ZoneSet | None = None):
    analyser = FallAnalyser(config or FallConfig())
    zones = zones or ZoneSet({}, SIZE)
    findings: list[Finding] = []
    for frame in frames:
        findings += analyser.observe(observation(frame, zones))
    return findings


def span(start: float, end: float, **seen: object) -> list[Frame]:
    """Frames every 0.2 s from `start` to `end` showing the same thing."""
    return [Frame(round(start + i * 0.2, 1), **seen) for i in range(round((end - start) * 5))]  # type: ignore[arg-type]


def starts(findings: list[Finding], kind: str = "fall") -> list[float]:
    """Seconds into the scene of each start of `kind`."""
    return [
        (f.observed_at - START).total_seconds()
        for f in findings
        if f.type.value == kind and f.phase.value == "start"
    ]


def test_a_fast_drop_that_stays_down_is_a_fall_until_they_get_up() -> None:
    scene = span(0, 2, tracked={1: STANDING}) + span(2, 5, tracked={1: LYING})
    scene += span(5, 10, tracked={1: STANDING})
    findings = run(scene)
    assert [(f.type.value, f.phase.value, f.attributes.get("end_reason")) for f in findings] == [
        ("fall", "start", None),
        ("fall", "end", "up"),
    ]
    assert 2.4 <= starts(findings)[0] <= 3.2  # decided within about a second of the drop
    assert findings[0].snapshot is not None and findings[0].attributes["drop"] > 0.3


def test_bending_over_for_a_moment_and_lying_from_the_start_are_not_falls() -> None:
    bending = span(0, 2, tracked={1: STANDING}) + span(2, 2.4, tracked={1: LYING})
    bending += span(2.4, 6, tracked={1: STANDING})
    assert run(bending) == []
    assert starts(run(span(0, 10, tracked={1: LYING}))) == []


def test_lying_back_from_sitting_on_furniture_is_not_a_fall() -> None:
    sitting: Box = (180.0, 130.0, 225.0, 240.0)
    lying_back: Box = (120.0, 125.0, 260.0, 175.0)  # the top stays at seat height
    scene = span(0, 2, tracked={1: STANDING}) + span(2, 6, tracked={1: sitting})
    scene += span(6, 12, tracked={1: lying_back})
    assert starts(run(scene)) == []


def test_lost_on_the_floor_the_fall_model_keeps_them_in_view() -> None:
    """The pose model stops finding the person once down; the fall model's box holds them."""
    scene = span(0, 2, tracked={1: STANDING}, fall=[])
    scene += span(2, 2.4, tracked={1: LYING}, fall=[(LYING, 0.8, 0.0)])
    scene += span(2.4, 40, fall=[(LYING, 0.8, 0.0)])
    findings = run(scene)
    assert 2.4 <= starts(findings)[0] <= 3.4
    assert starts(findings, "person_down") and starts(findings, "person_down")[0] >= 22.0
    assert not [f for f in findings if f.phase.value == "end"]


def test_lost_on_the_floor_far_off_a_closer_look_keeps_them_in_view() -> None:
    """Small and far: the frame loses them once down and the fall model does not see them;
    the box a crop finds holds them, after every other model's."""
    scene = span(0, 2, tracked={1: STANDING}) + span(2, 40, closer=[LYING])
    findings = run(scene)
    assert 2.4 <= starts(findings)[0] <= 3.4
    assert starts(findings, "person_down")
    assert starts(run(span(0, 2, tracked={1: STANDING}) + span(2, 40))) == []
    partial: Box = (230.0, 150.0, 260.0, 245.0)  # a crop's upright box of part of them
    scene = span(0, 2, tracked={1: STANDING}, fall=[])
    scene += span(2, 8, fall=[(LYING, 0.8, 0.0)], closer=[partial])
    findings = run(scene)
    assert starts(findings) and findings[0].bbox is not None
    assert findings[0].bbox[0] <= LYING[0] + 1, "the fall model's box, not the crop's"


def test_still_and_unseen_they_are_held_until_something_moves_there() -> None:
    scene = span(0, 2, tracked={1: STANDING}) + span(2, 4, tracked={1: LYING})
    scene += span(4, 12)  # nobody found, nothing moves: still there
    findings = run(scene)
    assert starts(findings) and not [f for f in findings if f.phase.value == "end"]
    scene += span(12, 16, moved=True)  # movement where they lay and still unseen: gone
    ended = [f for f in run(scene) if f.phase.value == "end"]
    assert [f.attributes["end_reason"] for f in ended] == ["gone"]


def test_identity_switch_to_an_upright_box_elsewhere_does_not_clear_the_fall() -> None:
    """Right after the drop the track jumps to another, upright person across the room."""
    elsewhere: Box = (330.0, 50.0, 360.0, 230.0)
    scene = span(0, 2, tracked={1: STANDING}) + span(2, 2.4, tracked={1: LYING})
    scene += span(2.4, 6, tracked={1: elsewhere}, untracked=[LYING])
    findings = run(scene)
    assert starts(findings), findings
    assert findings[0].bbox is not None and findings[0].bbox[1] >= 190  # on the floor


def test_slump_to_half_sitting_that_stays_low_is_a_fall() -> None:
    """A collapse against a wall: never a wide box, but the body came down fast and stays
    low, and the fall model says Fall."""
    slumped: Box = (180.0, 150.0, 240.0, 242.0)
    scene = span(0, 2, tracked={1: STANDING}, fall=[(STANDING, 0.0, 0.8)])
    scene += span(2, 8, tracked={1: slumped}, fall=[(slumped, 0.75, 0.0)])
    assert 2.4 <= starts(run(scene))[0] <= 5.0


def test_high_camera_a_shrink_with_little_drop_is_a_fall() -> None:
    """Seen from above, the top of the box comes down less than a third of the height."""
    standing: Box = (190.0, 60.0, 240.0, 200.0)  # upright people look wide from above
    fallen: Box = (170.0, 100.0, 270.0, 160.0)
    scene = span(0, 2, tracked={1: standing}) + span(2, 6, tracked={1: fallen})
    assert 2.2 <= starts(run(scene))[0] <= 4.0


def pose(shoulders: tuple[float, float], hips_y: float, ankles_y: float) -> np.ndarray:
    """Confident shoulders at (x, y), hips and ankles below x = 200; the rest unseen."""
    points = np.zeros((17, 3), np.float32)
    for joints, at in (((5, 6), shoulders), ((11, 12), (200, hips_y)), ((15, 16), (200, ankles_y))):
        for joint in joints:
            points[joint] = (*at, 0.9)
    return points


def test_slump_at_the_bottom_edge_with_guessed_ankles_is_a_fall() -> None:
    """Close to the camera the feet are out of view: the ankles the pose model gives at the
    frame's bottom are guesses, so they cannot say the legs are straight (bending over)."""
    standing: Box = (150.0, 20.0, 250.0, 300.0)
    slumped: Box = (120.0, 190.0, 280.0, 300.0)
    scene = span(0, 2, tracked={1: standing}, poses={1: pose((200, 80), 170, 290)})
    down = pose((215, 237), 262, 285)  # torso leaning towards the camera, ankles guessed
    scene += span(2, 8, tracked={1: slumped}, poses={1: down}, fall=[(slumped, 0.75, 0.0)])
    assert 2.4 <= starts(run(scene))[0] <= 5.0


def test_rolling_off_a_bed_is_a_fall_and_shifting_on_the_floor_is_not() -> None:
    """No upright phase: the body's centre comes down more than its own height."""
    bed = ZoneSet(
        {"bed": ZoneConfig(polygon=[(0, 0), (1, 0), (1, 0.5), (0, 0.5)], tags=["bed"])}, SIZE
    )
    on_bed: Box = (120.0, 100.0, 290.0, 140.0)
    scene = span(0, 3, tracked={1: on_bed}) + span(3, 8, tracked={1: LYING})
    assert 3.2 <= starts(run(scene, zones=bed))[0] <= 5.0
    foreshortened: Box = (160.0, 150.0, 260.0, 230.0)  # lying towards the camera
    turned: Box = (160.0, 185.0, 260.0, 265.0)  # down by a third of its length, not its height
    scene = span(0, 3, tracked={1: foreshortened}) + span(3, 8, tracked={1: turned})
    assert starts(run(scene)) == []


def test_walking_away_from_a_near_camera_then_falling_far_off_is_a_fall() -> None:
    """A doorbell or phone view: the person shrinks to a third of their height as they walk
    away (their feet rise in the image): still up, and their fall far off is a fall."""
    scene = []
    for i in range(15):  # 3 s from near the camera (258 px tall) to far (80 px)
        k = i / 14
        box = (150 + 40 * k, 32 + 68 * k, 250 - 35 * k, 290 - 110 * k)
        scene.append(Frame(round(i * 0.2, 1), tracked={1: box}))
    far: Box = (190.0, 100.0, 215.0, 180.0)
    fallen: Box = (170.0, 158.0, 240.0, 182.0)
    scene += span(3, 11, tracked={1: far})
    assert starts(run(scene)) == []
    assert 11.2 <= starts(run(scene + span(11, 16, tracked={1: fallen})))[0] <= 13.0


def test_a_box_that_jitters_on_compressed_video_is_still_at_rest() -> None:
    """On a sub-stream the pose box of someone lying still shifts and changes size from frame
    to frame by more than an overlap test allows."""
    jittered: Box = (105.0, 195.0, 285.0, 250.0)
    scene = span(0, 2, tracked={1: STANDING})
    for i in range(20):
        scene.append(Frame(round(2 + i * 0.2, 1), tracked={1: LYING if i % 2 else jittered}))
    assert 2.4 <= starts(run(scene))[0] <= 3.6


def test_walking_out_at_the_bottom_of_the_frame_is_not_a_fall() -> None:
    scene = span(0, 2, tracked={1: (190.0, 80.0, 230.0, 260.0)})
    for i, top in enumerate((150.0, 200.0, 240.0, 270.0)):  # the box is cut by the edge
        scene.append(Frame(2.0 + 0.2 * i, tracked={1: (170.0 - 10 * i, top, 260.0, 300.0)}))
    assert starts(run(scene)) == []


@pytest.mark.parametrize("tag", ["bed", "sofa", "mat"])
def test_no_fall_and_no_person_down_where_people_lie_down(tag: str) -> None:
    """A bed, a sofa, a judo or play mat: lying down fast there on purpose is no fall."""
    place = ZoneSet(
        {tag: ZoneConfig(polygon=[(0, 0.5), (1, 0.5), (1, 1), (0, 1)], tags=[tag])}, SIZE
    )
    scene = span(0, 2, tracked={1: STANDING}) + span(2, 40, tracked={1: LYING})
    assert run(scene, zones=place) == []
    assert starts(run(scene)) and starts(run(scene), "person_down"), "elsewhere it is"


def test_a_box_that_only_flickers_into_a_lying_shape_is_no_person_down() -> None:
    """On a sub-stream an object in a frame corner can be taken for a person, now and then
    in a lying shape: lying for 20 s means looking like it most of that time."""
    square: Box = (320.0, 220.0, 400.0, 300.0)
    wide: Box = (310.0, 250.0, 400.0, 300.0)
    scene = [
        Frame(round(i * 0.2, 1), tracked={1: wide if i % 10 == 0 else square}) for i in range(150)
    ]
    findings = run(scene, FallConfig(down_alert_s=10))
    assert starts(findings, "person_down") == []
    lying = [Frame(f.t, tracked={1: wide if i % 10 else square}) for i, f in enumerate(scene)]
    assert 9.8 <= starts(run(lying, FallConfig(down_alert_s=10)), "person_down")[0] <= 10.6


def test_person_down_without_a_seen_fall_and_long_lie_after_a_fall() -> None:
    config = FallConfig(down_alert_s=5, long_lie_s=8, update_s=100)
    found_lying = run(span(0, 12, tracked={1: LYING}), config)
    assert starts(found_lying) == [] and 4.8 <= starts(found_lying, "person_down")[0] <= 5.4
    scene = span(0, 2, tracked={1: STANDING}) + span(2, 12, tracked={1: LYING})
    fallen = run(scene, config)
    update = [f for f in fallen if f.type.value == "fall" and f.phase.value == "update"]
    assert update and update[0].attributes["long_lie"] is True
    assert update[0].attributes["severity"] == "high"
    assert starts(fallen, "person_down")
