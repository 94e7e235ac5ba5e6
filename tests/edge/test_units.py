"""Fast checks of the small parts: letterbox, NMS, sampling, motion gate, zones, posture."""

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from edge.analysers.age import AgeGroup, HeightAgeEstimator
from edge.analysers.base import Finding
from edge.analysers.inactivity import within
from edge.analysers.posture import is_down, is_up, torso_angle
from edge.config import CalibrationConfig, CameraConfig, MotionConfig, ZoneConfig
from edge.detect.letterbox import input_shape, letterbox
from edge.detect.nms import nms
from edge.events import EventFactory, normalised_box
from edge.motion import MotionGate
from edge.sources import FrameSampler, read_file
from edge.zones import ZoneSet
from shouwang.contracts import EventType, Phase


def test_letterbox_maps_back_to_frame_pixels() -> None:
    frame = np.zeros((240, 320, 3), np.uint8)
    shape = input_shape(frame.shape[:2], 416, 32, fixed=False)
    assert shape == (320, 416)
    tensor, box = letterbox(frame, shape)
    assert tensor.shape == (1, 3, 320, 416) and tensor.dtype == np.float32
    corners = np.array([[box.pad_x, box.pad_y, 416 - box.pad_x, 320 - box.pad_y]])
    assert np.allclose(box.to_frame(corners), [[0, 0, 320, 240]], atol=1)


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
    keep = nms(boxes, np.array([0.5, 0.9, 0.7]), iou_threshold=0.5, max_det=10)
    assert keep.tolist() == [1, 2]


def test_sampler_picks_detect_fps_out_of_the_source() -> None:
    sampler = FrameSampler(5.0)
    picked = [i for i in range(60) if sampler.due(i / 30.0)]
    assert picked == [0, 6, 12, 18, 24, 30, 36, 42, 48, 54]


def test_read_file_decodes_only_sampled_frames(tmp_path: Path) -> None:
    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 20.0, (64, 48))
    for i in range(40):
        writer.write(np.full((48, 64, 3), i * 5, np.uint8))
    writer.release()
    frames = list(read_file(path, 5.0))
    assert [f.index for f in frames] == [0, 4, 8, 12, 16, 20, 24, 28, 32, 36]
    assert frames[1].t == 0.2


def test_motion_gate_skips_still_scenes_but_checks_tracked_people() -> None:
    gate = MotionGate(MotionConfig(tracked_check_s=1.0, idle_check_s=10.0))
    still = np.full((240, 320, 3), 100, np.uint8)
    runs = [gate.should_detect(still, t / 5, tracking=False) for t in range(25)]
    assert runs[0] and sum(runs) == 1
    runs = [gate.should_detect(still, 5 + t / 5, tracking=True) for t in range(25)]
    assert sum(runs) == 5
    moved = still.copy()
    moved[50:150, 50:150] = 250
    assert gate.should_detect(moved, 10.1, tracking=False) and gate.motion


def test_zone_membership_uses_the_bottom_centre() -> None:
    zones = ZoneSet(
        {"left": ZoneConfig(polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)], tags=["water"])},
        (200, 100),
    )
    people = sv.Detections(xyxy=np.array([[10, 10, 50, 90], [110, 10, 190, 90]], np.float32))
    assert zones.membership(people)["left"].tolist() == [True, False]
    assert [z.name for z in zones.tagged(["water"])] == ["left"]
    assert zones.by_name("left").mask(20, 10)[:, :9].all()


def test_posture_from_keypoints_and_box() -> None:
    keypoints = np.zeros((17, 3), np.float32)
    keypoints[[5, 6], :] = [[40, 20, 0.9], [60, 20, 0.9]]
    keypoints[[11, 12], :] = [[42, 60, 0.9], [58, 60, 0.9]]
    assert torso_angle(keypoints) is not None and torso_angle(keypoints) < 5
    assert is_up(np.array([30, 10, 70, 110]), torso_angle(keypoints))
    assert is_down(np.array([0, 80, 120, 120]), None)
    keypoints[:, 2] = 0.1
    assert torso_angle(keypoints) is None


def test_height_age_estimate_by_calibration() -> None:
    estimator = HeightAgeEstimator(
        CalibrationConfig(row_near=0.9, adult_height_near=0.5, row_far=0.5, adult_height_far=0.2)
    )
    frame = (100, 100)
    assert estimator.estimate(np.array([40, 40, 55, 90]), frame) == AgeGroup.ADULT
    assert estimator.estimate(np.array([40, 65, 50, 90]), frame) == AgeGroup.CHILD
    assert estimator.estimate(np.array([20, 70, 80, 90]), frame) == AgeGroup.UNKNOWN


def test_inactivity_hours_may_wrap_midnight() -> None:
    from datetime import time

    assert within(time(8), time(7), time(21))
    assert not within(time(22), time(7), time(21))
    assert within(time(23), time(22), time(6)) and within(time(5), time(22), time(6))


def test_camera_state_events_pair_offline_and_online() -> None:
    factory = EventFactory("site-1", "edge-1", "cam-1", None)
    now = datetime.now(UTC)
    offline = factory.camera_state(False, now, "cannot open source")
    assert [e.event.type.value for e in offline] == ["camera_offline"]
    assert factory.camera_state(False, now, "again") == []
    back = factory.camera_state(True, now, None)
    assert [(e.event.type.value, e.event.phase.value) for e in back] == [
        ("camera_offline", "end"),
        ("camera_online", "start"),
    ]
    assert back[0].event.episode_id == offline[0].event.event_id


def test_events_carry_the_configured_names_of_camera_and_zone() -> None:
    camera = CameraConfig.model_validate(
        {
            "id": "cam-yard",
            "name": "院子",
            "source": "yard.mp4",
            "zones": {
                "gate": {"name": "院门口", "polygon": [[0, 0], [1, 0], [1, 1]]},
                "path": {"polygon": [[0, 0], [1, 0], [0, 1]]},
            },
        }
    )
    factory = EventFactory.for_camera("site-1", "edge-1", camera, None)
    now = datetime.now(UTC)

    def finding(zone: str) -> Finding:
        return Finding(EventType.LOITERING, Phase.START, zone, now, now, 0, 0.8, zone=zone)

    gate, path = factory.build(finding("gate")).event, factory.build(finding("path")).event
    assert (gate.camera, gate.camera_name, gate.zone, gate.zone_name) == (
        "cam-yard",
        "院子",
        "gate",
        "院门口",
    )
    assert (path.zone, path.zone_name) == ("path", None)  # an unnamed zone is shown by its id
    (offline,) = factory.camera_state(False, now, "cannot open source")
    assert offline.event.camera_name == "院子"


def test_normalised_box_is_clipped() -> None:
    box = normalised_box(np.array([-5, 10, 330, 200]), (320, 240))
    assert (box.x1, box.x2) == (0.0, 1.0) and abs(box.y2 - 200 / 240) < 1e-9
