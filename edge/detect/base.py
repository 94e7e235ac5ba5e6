"""The detector interface every model backend implements (like Frigate's detector plugins)."""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import supervision as sv

KEYPOINTS = "keypoints"
"""`Detections.data` key of the (N, K, 3) keypoint array: x, y in pixels and confidence."""
CLASS_SCORES = "class_scores"
"""`Detections.data` key of the (N, C) per-class scores of each box."""
CLASS_NAME = "class_name"
"""`Detections.data` key of the class name of each box (supervision's own convention)."""


@dataclass(frozen=True, slots=True)
class DetectorInfo:
    """What a detector is, for event `model` fields and logs."""

    name: str
    version: str
    class_names: tuple[str, ...]
    input_size: int


class Detector(ABC):
    """Finds objects in one BGR frame; boxes are in that frame's pixel coordinates."""

    info: DetectorInfo

    @abstractmethod
    def detect(self, frame: np.ndarray) -> sv.Detections:
        """Detections in `frame` (H×W×3 BGR uint8), with `data` as described above."""

    def class_id(self, name: str) -> int:
        """Index of the class called `name`; ValueError when the model has no such class."""
        try:
            return self.info.class_names.index(name)
        except ValueError:
            known = ", ".join(self.info.class_names)
            raise ValueError(f"model {self.info.name} has no class {name!r} ({known})") from None
