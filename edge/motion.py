"""Motion gate: frame differencing on a small grey copy decides when inference is worth it."""

import cv2
import numpy as np

from edge.config.camera import MotionConfig


class MotionGate:
    """Says per frame whether to run the detector: on motion, and on a slower beat otherwise
    (faster while people are tracked, so a motionless person lying down stays observed)."""

    def __init__(self, config: MotionConfig) -> None:
        self.config = config
        self._previous: np.ndarray | None = None
        self._last_run = -np.inf
        self.motion = False
        """Whether the last frame given to `should_detect` showed motion."""
        self.mask: np.ndarray | None = None
        """Changed pixels of the last comparison (small grey copy), if any."""

    def changed_fraction(self, frame: np.ndarray) -> float:
        """Fraction of pixels of the small grey copy that changed since the previous frame."""
        h, w = frame.shape[:2]
        width = min(self.config.width, w)
        small = cv2.resize(
            frame, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA
        )
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (3, 3), 0)
        previous, self._previous = self._previous, grey
        if previous is None or previous.shape != grey.shape:
            self.mask = None
            return 1.0
        self.mask = cv2.absdiff(grey, previous) > self.config.pixel_threshold
        return float(np.count_nonzero(self.mask)) / self.mask.size

    def should_detect(
        self, frame: np.ndarray, t: float, tracking: bool, every_frame: bool = False
    ) -> bool:
        """True when the detector should run on `frame` taken at `t` seconds: on motion, on
        the beat (faster while `tracking`), on every frame while `every_frame`, and always
        when the gate is disabled (then nothing is compared and `mask` stays None)."""
        if not self.config.enabled:
            return True
        self.motion = self.changed_fraction(frame) >= self.config.area
        beat = self.config.tracked_check_s if tracking else self.config.idle_check_s
        if self.motion or every_frame or t - self._last_run >= beat:
            self._last_run = t
            return True
        return False
