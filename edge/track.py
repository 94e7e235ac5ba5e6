"""Tracking: ByteTrack from the `trackers` package keeps identities across sampled frames."""

from abc import ABC, abstractmethod

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

NOMINAL_FPS = 30.0
"""`trackers` counts its lost-track buffer in frames of a 30 fps video."""


class ObjectTracker(ABC):
    """Assigns a stable `tracker_id` to detections (like Frigate's ObjectTracker)."""

    @abstractmethod
    def update(self, detections: sv.Detections, t: float) -> tuple[sv.Detections, sv.Detections]:
        """The detections confirmed as tracks at `t` seconds (`tracker_id` set), and the
        others (not, or not yet, a track: low confidence, or seen once)."""


class ByteTracker(ObjectTracker):
    """ByteTrack with timestamps, so uneven sampling (motion gate) is handled."""

    def __init__(self, detect_fps: float, keep_lost_s: float) -> None:
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(keep_lost_s * NOMINAL_FPS)),
            frame_rate=detect_fps,
            track_activation_threshold=0.5,
            minimum_consecutive_frames=2,
            minimum_iou_threshold=0.1,
            high_conf_det_threshold=0.45,
        )

    def update(self, detections: sv.Detections, t: float) -> tuple[sv.Detections, sv.Detections]:
        """Confirmed tracks, and the detections ByteTrack left unconfirmed (`tracker_id` −1)."""
        tracked = self._tracker.update(detections, timestamp=t)
        if tracked.tracker_id is None or len(tracked) == 0:
            tracked.tracker_id = np.empty(0, dtype=int)
            return tracked, tracked
        ids = tracked.tracker_id
        confirmed, others = tracked[ids >= 0], tracked[ids < 0]
        assert isinstance(confirmed, sv.Detections) and isinstance(others, sv.Detections)
        return confirmed, others
