"""A closer look: the pose model run again on a crop around a small person where a fall is
being decided, so someone far from the camera or seen from high up is found, and gets
keypoints, at a size the model sees well (sliced inference, as SAHI does it, for a few boxes
only)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import supervision as sv

from edge.detect.base import KEYPOINTS, Detector

SMALL_PX = 160
"""Long side, in network-input pixels, below which a person is small enough to look closer."""
CROP_SCALE = 2.0
"""Side of the square crop as a multiple of the person's long side."""
MAX_CROPS = 2
"""Most crops per frame: places where nobody was found first, then the least confident."""
NEAR = 0.3
"""Intersection, over the smaller box, that makes a person and a watched place overlap."""
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


def _overlap(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Per box, the largest intersection with any of `others` over the smaller one's area."""
    if not len(boxes) or not len(others):
        return np.zeros(len(boxes))
    return np.asarray(sv.box_iou_batch(boxes, others, sv.OverlapMetric.IOS).max(axis=1))


def _long_side(boxes: np.ndarray) -> np.ndarray:
    return np.asarray(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]))


@dataclass(slots=True)
class Look:
    """What a closer look found on one frame."""

    people: sv.Detections
    """The frame's detections, small ones at watched places with the crops' keypoints."""
    found: sv.Detections
    """People the frame missed, found on a crop where a small watched body was lost: boxes
    only (keypoint confidence 0), for the fall analysis to hold that body with."""
    crops: int


class CloserLook:
    """Runs the pose model again on crops around small people at watched places: where the
    frame found them, the crop's keypoints replace the frame's (boxes unchanged, so tracking
    is too); where it lost them, the crop's box is returned apart."""

    def __init__(
        self, detector: Detector, small_px: float = SMALL_PX, max_crops: int = MAX_CROPS
    ) -> None:
        self.detector, self.small_px, self.max_crops = detector, small_px, max_crops

    def look(self, image: np.ndarray, people: sv.Detections, places: Sequence[np.ndarray]) -> Look:
        """A closer look at small people at `places` (boxes in frame pixels) in `image`,
        whose whole-frame detections are `people` (refined in place)."""
        if not places or KEYPOINTS not in people.data:
            return Look(people, sv.Detections.empty(), 0)
        scale = self.detector.info.input_size / max(image.shape[:2])
        watched = np.asarray(places, dtype=np.float32).reshape(-1, 4)
        small_places = watched[_long_side(watched) * scale < self.small_px]
        lost = small_places[_overlap(small_places, people.xyxy) < NEAR][: self.max_crops]
        found = [seen for place in lost if (seen := self._find(image, place, people))]
        near = _overlap(people.xyxy, watched) >= NEAR
        rows = np.flatnonzero((_long_side(people.xyxy) * scale < self.small_px) & near)
        confidence = people.confidence if people.confidence is not None else np.ones(len(people))
        rows = rows[np.argsort(confidence[rows], kind="stable")][: self.max_crops - len(lost)]
        for row in rows:
            self._refine(image, people, int(row))
        merged = sv.Detections.merge(found) if found else sv.Detections.empty()
        return Look(people, merged, len(lost) + len(rows))

    def _crop(self, image: np.ndarray, box: np.ndarray) -> sv.Detections:
        """Detections of a crop around `box`, in frame pixels."""
        x1, y1, x2, y2 = crop_around(box, image.shape[:2])
        found = self.detector.detect(image[y1:y2, x1:x2])
        found.xyxy = found.xyxy + np.array([x1, y1, x1, y1], dtype=np.float32)
        keypoints = np.array(found.data[KEYPOINTS], dtype=np.float32)
        keypoints[..., 0] += x1
        keypoints[..., 1] += y1
        found.data[KEYPOINTS] = keypoints
        return found

    def _find(
        self, image: np.ndarray, place: np.ndarray, people: sv.Detections
    ) -> sv.Detections | None:
        """The most confident person a crop shows at `place` whom the frame did not find, as a
        box only: a crop's guess at a tumbled body's pose misled more than it told."""
        found = self._crop(image, place)
        if not len(found) or found.confidence is None:
            return None
        there = _overlap(found.xyxy, place[None]) >= NEAR
        if len(people):
            there &= sv.box_iou_batch(found.xyxy, people.xyxy).max(axis=1) < MATCH_IOU
        if not there.any():
            return None
        best = int(np.flatnonzero(there)[found.confidence[there].argmax()])
        person = cast(sv.Detections, found[[best]])
        np.asarray(person.data[KEYPOINTS])[..., 2] = 0.0
        return person

    def _refine(self, image: np.ndarray, people: sv.Detections, row: int) -> None:
        """Give person `row` the keypoints of their match in a crop around them."""
        found = self._crop(image, people.xyxy[row])
        if not len(found):
            return
        ious = sv.box_iou_batch(people.xyxy[row : row + 1], found.xyxy)[0]
        best = int(ious.argmax())
        if ious[best] >= MATCH_IOU:
            people.data[KEYPOINTS][row] = found.data[KEYPOINTS][best]
