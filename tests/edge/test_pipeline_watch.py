"""The camera pipeline keeps looking at someone lying still: with the motion gate closed and
the tracker no longer confirming them, detection runs on the tracked beat and the fall model
is asked while the fall analyser holds them."""

from datetime import UTC, datetime, timedelta

import numpy as np
import supervision as sv

from edge.config import CameraConfig
from edge.detect.base import CLASS_NAME, CLASS_SCORES, KEYPOINTS, Detector, DetectorInfo
from edge.events import EventFactory
from edge.pipeline import CameraPipeline
from edge.sources import Frame

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
STANDING = [300.0, 60.0, 340.0, 300.0]
LYING = [200.0, 250.0, 440.0, 310.0]
FRAME_HW = (360, 640)


class Scripted(Detector):
    """A detector that answers from a script by time (the decisions, not a model)."""

    def __init__(self, names: tuple[str, ...], answer) -> None:  # type: ignore[no-untyped-def]
        self.info = DetectorInfo("scripted", "1", names, 416)
        self.answer, self.calls, self.t = answer, [], 0.0
        self.crops: list[float] = []
        """Times it was asked on a crop rather than the whole frame."""

    def detect(self, frame: np.ndarray) -> sv.Detections:
        if frame.shape[:2] != FRAME_HW:
            self.crops.append(self.t)
            return self.empty()
        self.calls.append(self.t)
        boxes, scores = self.answer(self.t)
        n = len(boxes)
        return sv.Detections(
            xyxy=np.array(boxes, np.float32).reshape(-1, 4),
            confidence=np.full(n, 0.9, np.float32),
            class_id=np.zeros(n, int),
            data={
                CLASS_SCORES: np.array(scores, np.float32).reshape(n, len(self.info.class_names)),
                CLASS_NAME: np.array(["x"] * n),
                KEYPOINTS: np.zeros((n, 17, 3), np.float32),
            },
        )

    def empty(self) -> sv.Detections:
        return sv.Detections(
            xyxy=np.empty((0, 4), np.float32),
            confidence=np.empty(0, np.float32),
            class_id=np.empty(0, int),
            data={KEYPOINTS: np.empty((0, 17, 3), np.float32)},
        )


def test_someone_lying_still_is_looked_at_though_nothing_moves_and_nobody_is_tracked() -> None:
    pose = Scripted(("person",), lambda t: ([STANDING], [[0.9]]) if t < 2 else ([], []))
    fall = Scripted(("Normal", "Fall"), lambda t: ([LYING], [[0.0, 0.8]]) if t >= 2 else ([], []))
    camera = CameraConfig(id="cam-1", source="file.mp4")
    pipeline = CameraPipeline(camera, pose, EventFactory("s", "e", "cam-1", pose.info), fall)
    still = np.zeros((*FRAME_HW, 3), np.uint8)
    events = []
    for i in range(5 * 30):
        t = i / 5
        pose.t = fall.t = t
        image = still.copy()
        if t < 2.4:  # someone walking, then falling: motion; afterwards a still scene
            image[:, : 40 + i * 8] = 255
        events += pipeline.process(Frame(image, i, t), START + timedelta(seconds=t))
    kinds = [(e.event.type.value, e.event.phase.value) for e in events]
    assert ("fall", "start") in kinds and ("person_down", "start") in kinds
    late = [t for t in pose.calls if t >= 5]
    gaps = np.diff(late)
    assert len(late) >= 20 and gaps.max() <= camera.motion.tracked_check_s + 0.21
    assert [t for t in fall.calls if t >= 25], "the fall model is still asked"


def test_small_people_are_looked_at_closer_only_while_a_fall_is_being_decided() -> None:
    def answer(t: float) -> tuple[list[list[float]], list[list[float]]]:
        return ([STANDING], [[0.9]]) if t < 4 else ([LYING], [[0.9]])

    pose = Scripted(("person",), answer)
    camera = CameraConfig(id="cam-1", source="file.mp4")
    pipeline = CameraPipeline(camera, pose, EventFactory("s", "e", "cam-1", pose.info))
    for i in range(5 * 10):
        t = i / 5
        pose.t = t
        image = np.zeros((*FRAME_HW, 3), np.uint8)
        image[:, : 40 + i * 8] = 255  # motion throughout
        pipeline.process(Frame(image, i, t), START + timedelta(seconds=t))
    # 240 px tall in a 640-wide frame is 156 px of a 416 input: small enough to look closer
    assert pose.crops, "someone small going down is looked at closer"
    assert min(pose.crops) >= 4, "nobody is looked at closer while they walk upright"
    assert pipeline.stats.closer_looks == len(pose.crops)
