"""Age group of a person: pluggable estimators (body height by calibration today).

Limits: height says child only for standing people seen whole; a sitting adult, a person
cut off by the frame edge or a crouching child are "unknown". Calibration assumes a flat
ground plane between the two calibrated rows.
"""

from abc import ABC, abstractmethod
from enum import StrEnum

import numpy as np

from edge.analysers.posture import aspect
from edge.config.analysers import CalibrationConfig


class AgeGroup(StrEnum):
    """Coarse age group as sent in event attributes."""

    CHILD = "child"
    ADULT = "adult"
    UNKNOWN = "unknown"


class AgeEstimator(ABC):
    """Estimates the age group of a detected person."""

    @abstractmethod
    def estimate(self, box: np.ndarray, frame_wh: tuple[int, int]) -> AgeGroup:
        """Age group of the person in `box` (pixels) of a frame of `frame_wh`."""


class HeightAgeEstimator(AgeEstimator):
    """Compares a standing person's box height with the calibrated adult height at the row of
    their feet (linear between the two calibrated rows)."""

    def __init__(self, calibration: CalibrationConfig) -> None:
        self.c = calibration

    def expected_adult_height(self, feet_row: float) -> float:
        """Expected standing adult height (fraction of frame height) with feet at `feet_row`."""
        c = self.c
        if abs(c.row_near - c.row_far) < 1e-6:
            return c.adult_height_near
        slope = (c.adult_height_near - c.adult_height_far) / (c.row_near - c.row_far)
        return max(1e-3, c.adult_height_far + slope * (feet_row - c.row_far))

    def estimate(self, box: np.ndarray, frame_wh: tuple[int, int]) -> AgeGroup:
        """Child when clearly shorter than an adult there; unknown unless standing and whole."""
        _, height = frame_wh
        if aspect(box) >= 0.6 or box[1] <= 1 or box[3] >= height - 1:
            return AgeGroup.UNKNOWN
        feet = float(box[3]) / height
        ratio = (float(box[3] - box[1]) / height) / self.expected_adult_height(feet)
        return AgeGroup.CHILD if ratio < self.c.child_ratio else AgeGroup.ADULT
