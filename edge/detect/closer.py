"""A closer look: the pose model run again on a crop around a small person where a fall is
being decided, so someone far from the camera or seen from high up gets keypoints at a size
the model sees well (sliced inference, as SAHI does it, for a few boxes only)."""

from collections.abc import Sequence

import numpy as np
import supervision as sv

from edge.detect.base import KEYPOINTS, Detector

SMALL_PX = 160
"""Long side, in network-input pixels, below which a person is small enough to look closer."""
CROP_SCALE = 2.0
"""Side of the square crop as a multiple of the person's long side."""
MAX_CROPS = 2
"""Most crops per frame (the least confident people first)."""
NEAR = 0.3
"""Share of the person's box that must overlap a watched place."""
MATCH_IOU = 0.3
"""Intersection over union a crop's detection needs with the person's box to be them."""


def crop_around(
    box: np.ndarray, frame_hw: tuple[int, int], scale: float = CROP_SCALE
) -> tuple[int, int, int, int]:
    """A square (x1, y1, x2, y2) of `scale` times the box's long side around its centre,
    shifted to lie inside the frame (and cut to it when the frame is smaller)."""
    h, w = frame_hw
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    side = min(max(x2 - x1, y2 - y1) * scale, w, h)
    left = round(min(max((x1 + x2 - side) / 2, 0.0), w - side))
    top = round(min(max((y1 + y2 - side) / 2, 0.0), h - side))
    return left, top, min(w, left + round(side)), min(h, top + round(side))


def _overlap(boxes: np.ndarray, places: np.ndarray) -> np.ndarray:
    """Per box, the largest share of its area inside any of `places`."""
    x1 = np.maximum(boxes[:, None, 0], places[None, :, 0])
    y1 = np.maximum(boxes[:, None, 1], places[None, :, 1])
    x2 = np.minimum(boxes[:, None, 2], places[None, :, 2])
    y2 = np.minimum(boxes[:, None, 3], places[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1.0)
    return np.asarray((inter / area[:, None]).max(axis=1))


class CloserLook:
    """Re-detects small people at watched places on a crop and keeps the crop's keypoints
    (boxes stay as the full frame found them, so tracking is unchanged)."""

    def __init__(
        self, detector: Detector, small_px: float = SMALL_PX, max_crops: int = MAX_CROPS
    ) -> None:
        self.detector, self.small_px, self.max_crops = detector, small_px, max_crops

    def refine(self, image: np.ndarray, people: sv.Detections, places: Sequence[np.ndarray]) -> int:
        """Replace, in place, the keypoints of small people overlapping `places` (boxes in
        frame pixels) with a closer look's; returns how many crops were run."""
        if not places or not len(people) or KEYPOINTS not in people.data:
            return 0
        confidence = people.confidence if people.confidence is not None else np.ones(len(people))
        scale = self.detector.info.input_size / max(image.shape[:2])
        sides = np.maximum(
            people.xyxy[:, 2] - people.xyxy[:, 0], people.xyxy[:, 3] - people.xyxy[:, 1]
        )
        small = sides * scale < self.small_px
        near = _overlap(people.xyxy, np.asarray(places, dtype=np.float32)) >= NEAR
        rows = np.flatnonzero(small & near)
        rows = rows[np.argsort(confidence[rows], kind="stable")][: self.max_crops]
        for row in rows:
            self._look(image, people, int(row))
        return len(rows)

    def _look(self, image: np.ndarray, people: sv.Detections, row: int) -> None:
        x1, y1, x2, y2 = crop_around(people.xyxy[row], image.shape[:2])
        found = self.detector.detect(image[y1:y2, x1:x2])
        if not len(found):
            return
        offset = np.array([x1, y1, x1, y1], dtype=np.float32)
        ious = sv.box_iou_batch(people.xyxy[row : row + 1], found.xyxy + offset)[0]
        best = int(ious.argmax())
        if ious[best] < MATCH_IOU:
            return
        keypoints = found.data[KEYPOINTS][best].copy()
        keypoints[:, 0] += x1
        keypoints[:, 1] += y1
        people.data[KEYPOINTS][row] = keypoints
