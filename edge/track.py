"""Tracking: ByteTrack from the `trackers` package keeps identities across sampled frames."""

from abc import ABC, abstractmethod

import supervision as sv
from trackers import ByteTrackTracker

NOMINAL_FPS = 30.0
"""`trackers` counts its lost-track buffer in frames of a 30 fps video."""


class ObjectTracker(ABC):
    """Assigns a stable `tracker_id` to detections (like Frigate's ObjectTracker)."""

    @abstractmethod
    def update(self, detections: sv.Detections, t: float) -> sv.Detections:
        """The detections confirmed as tracks at `t` seconds, with `tracker_id` set."""


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

    def update(self, detections: sv.Detections, t: float) -> sv.Detections:
        """Tracked detections only: unconfirmed ones (`tracker_id` −1) are dropped."""
        tracked = self._tracker.update(detections, timestamp=t)
        if tracked.tracker_id is None or len(tracked) == 0:
            return tracked
        confirmed = tracked[tracked.tracker_id >= 0]
        assert isinstance(confirmed, sv.Detections)
        return confirmed
