"""One camera's path: motion gate → detector → tracker → zones → analysers → events."""

import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import supervision as sv

from edge.analysers import (
    Analyser,
    FallAnalyser,
    InactivityAnalyser,
    LoiteringAnalyser,
    Observation,
    UnattendedChildAnalyser,
)
from edge.analysers.age import HeightAgeEstimator
from edge.config.camera import CameraConfig
from edge.detect.base import Detector
from edge.detect.closer import CloserLook
from edge.events import Emitted, EventFactory
from edge.motion import MotionGate
from edge.sources import Frame
from edge.track import ByteTracker
from edge.zones import ZoneSet

FALL_CLASS = "Fall"


@dataclass(slots=True)
class PipelineStats:
    """Counters since start, read by the heartbeat."""

    frames: int = 0
    detections: int = 0
    inference_s: float = 0.0
    second_opinions: int = 0
    second_opinion_s: float = 0.0
    closer_looks: int = 0
    """Crops the pose model was run on again (small people where a fall is decided)."""


def build_analysers(camera: CameraConfig, fall_class: int) -> list[Analyser]:
    """The analysers a camera's config asks for."""
    analysers: list[Analyser] = [
        FallAnalyser(camera.fall, fall_class),
        LoiteringAnalyser(camera.loitering),
        InactivityAnalyser(camera.inactivity),
    ]
    if camera.calibration is not None:
        estimator = HeightAgeEstimator(camera.calibration)
        analysers.append(UnattendedChildAnalyser(camera.unattended, estimator))
    return analysers


def _no_people() -> sv.Detections:
    people = sv.Detections.empty()
    people.tracker_id = np.empty(0, dtype=int)
    return people


class CameraPipeline:
    """Analyses the sampled frames of one camera and returns the events they decide."""

    def __init__(
        self,
        camera: CameraConfig,
        detector: Detector,
        factory: EventFactory,
        fall_detector: Detector | None = None,
    ) -> None:
        self.camera = camera
        self.detector, self.fall_detector, self.factory = detector, fall_detector, factory
        self.closer = CloserLook(detector)
        self.gate = MotionGate(camera.motion)
        keep_lost_s = max(3.0, 3 * camera.motion.tracked_check_s)
        self.tracker = ByteTracker(camera.detect_fps, keep_lost_s)
        fall_class = fall_detector.class_id(FALL_CLASS) if fall_detector else 1
        self.analysers = build_analysers(camera, fall_class)
        self.stats = PipelineStats()
        self.zones: ZoneSet | None = None
        self._tracking = False
        self._last: Observation | None = None

    def process(self, frame: Frame, at: datetime) -> list[Emitted]:
        """Analyse one sampled frame taken at `at`."""
        image = frame.image
        frame_wh = (int(image.shape[1]), int(image.shape[0]))
        if self.zones is None or self.zones.frame_wh != frame_wh:
            self.zones = ZoneSet(self.camera.zones, frame_wh)
        watches = [a.watch() for a in self.analysers]
        keep_detecting = self._tracking or any(w.keep_detecting for w in watches)
        every_frame = any(w.every_frame for w in watches)
        detect = self.gate.should_detect(image, frame.t, keep_detecting, every_frame)
        people, untracked, opinion = _no_people(), _no_people(), None
        found_closer = sv.Detections.empty()
        if detect:
            started = time.perf_counter()
            places = [box for w in watches for box in w.look_closer]
            look = self.closer.look(image, self.detector.detect(image), places)
            self.stats.closer_looks += look.crops
            found_closer = look.found
            people, untracked = self.tracker.update(look.people, frame.t)
            self.stats.inference_s += time.perf_counter() - started
            self.stats.detections += 1
            self._tracking = len(people) > 0
            if self.fall_detector is not None and any(w.second_opinion for w in watches):
                started = time.perf_counter()
                opinion = self.fall_detector.detect(image)
                self.stats.second_opinion_s += time.perf_counter() - started
                self.stats.second_opinions += 1
        self.stats.frames += 1
        obs = Observation(
            camera=self.camera.id,
            image=image,
            index=frame.index,
            t=frame.t,
            at=at,
            detected=detect,
            motion=self.gate.motion,
            people=people,
            zones=self.zones,
            in_zone=self.zones.membership(people),
            motion_mask=self.gate.mask,
            second_opinion=opinion,
            untracked=untracked,
            found_closer=found_closer,
        )
        self._last = obs
        return [self.factory.build(f) for a in self.analysers for f in a.observe(obs)]

    def finish(self) -> list[Emitted]:
        """End events for every open episode (the source has ended)."""
        if self._last is None:
            return []
        obs = self._last
        return [self.factory.build(f) for a in self.analysers for f in a.finish(obs)]

    @property
    def last_people(self) -> sv.Detections:
        """Tracked people of the last analysed frame (for drawing)."""
        return self._last.people if self._last else _no_people()
