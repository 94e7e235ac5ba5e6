"""A closer look re-detects small people at watched places on a crop of the real frame with
the real pose model: it finds those the frame lost and keeps the crop's keypoints."""

from functools import cache

import cv2
import numpy as np
import pytest
import supervision as sv

from edge.config import EdgeSettings
from edge.detect.base import KEYPOINTS, Detector
from edge.detect.closer import CloserLook, crop_around
from edge.detect.yolo import YoloOnnxDetector
from tests.edge.footage import clip

STREET = "no_fall/street-pedestrians-elevated-cctv-01.mp4"
"""1920×1080 elevated CCTV: pedestrians are small in a 416-pixel network input."""
YARD = "fall/yard-sidewalk-far-fall-01.mp4"
"""A far figure throws himself onto the grass; the whole frame loses him once down."""


@cache
def pose() -> Detector:
    config = EdgeSettings().detector
    return YoloOnnxDetector(config.path, input_size=config.input_size, threads=config.threads)


def frame(name: str, index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(clip(name).path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = capture.read()
    capture.release()
    if not ok:
        pytest.skip(f"{name} does not decode here")
    return np.asarray(image)


def street_frame() -> np.ndarray:
    return frame(STREET, 100)


def people(image: np.ndarray) -> sv.Detections:
    found = pose().detect(image)
    assert len(found) >= 3, "the street frame shows at least three pedestrians"
    return found


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ([100, 100, 140, 200], (20, 50, 220, 250)),  # 2× the long side around the centre
        ([0, 0, 40, 100], (0, 0, 200, 200)),  # at a corner: shifted inside
        ([600, 300, 640, 360], (520, 240, 640, 360)),  # other corner
        ([0, 0, 640, 300], (140, 0, 500, 360)),  # larger than the frame: cut to it
    ],
)
def test_the_crop_is_square_around_the_person_and_inside_the_frame(
    box: list[float], expected: tuple[int, int, int, int]
) -> None:
    assert crop_around(np.array(box, np.float32), (360, 640)) == expected


def test_the_least_confident_small_people_at_watched_places_get_the_crops_keypoints() -> None:
    image = street_frame()
    found = people(image)
    before = found.data[KEYPOINTS].copy()
    boxes = found.xyxy.copy()
    crops = CloserLook(pose()).look(image, found, list(found.xyxy)).crops
    assert crops == 2  # everyone is small and watched; two crops at most
    looked = np.argsort(found.confidence)[:2]
    kept = np.argsort(found.confidence)[2:]
    np.testing.assert_array_equal(found.xyxy, boxes)
    np.testing.assert_array_equal(found.data[KEYPOINTS][kept], before[kept])
    for row in looked:
        new = found.data[KEYPOINTS][row]
        assert not np.array_equal(new, before[row])
        x1, y1, x2, y2 = crop_around(boxes[row], image.shape[:2])
        visible = new[:, 2] > 0.5
        assert visible.sum() >= 8
        assert np.all((new[visible, 0] >= x1) & (new[visible, 0] <= x2))
        assert np.all((new[visible, 1] >= y1) & (new[visible, 1] <= y2))
        # the person seen larger: keypoints at least as sure as in the full frame
        assert new[:, 2].mean() >= before[row][:, 2].mean()


def test_nobody_is_looked_at_without_a_watched_place_near_them() -> None:
    image = street_frame()
    found = people(image)
    before = found.data[KEYPOINTS].copy()
    closer = CloserLook(pose())
    assert closer.look(image, found, []).crops == 0
    far = np.array([0, 0, 60, 60], np.float32)  # a corner of shop fronts: nobody there
    look = closer.look(image, found, [far])
    assert look.crops == 1 and len(look.found) == 0  # looked for someone lost, found nobody
    np.testing.assert_array_equal(found.data[KEYPOINTS], before)


def test_a_person_large_enough_for_the_network_is_not_looked_at() -> None:
    image = street_frame()
    found = people(image)
    scale = pose().info.input_size / max(image.shape[:2])
    sides = np.maximum(found.xyxy[:, 2] - found.xyxy[:, 0], found.xyxy[:, 3] - found.xyxy[:, 1])
    smallest = int(sides.argmin())
    threshold = float(np.sort(sides)[1] * scale)  # only the smallest person is below it
    before = found.data[KEYPOINTS].copy()
    crops = CloserLook(pose(), small_px=threshold).look(image, found, list(found.xyxy)).crops
    assert crops == 1
    others = [row for row in range(len(found)) if row != smallest]
    np.testing.assert_array_equal(found.data[KEYPOINTS][others], before[others])


def test_a_small_person_the_frame_lost_where_they_fell_is_found_on_a_crop() -> None:
    image = frame(YARD, 180)  # just down on the grass, far from a portrait phone
    found = pose().detect(image)
    assert len(found) == 0, "the whole frame no longer finds them"
    last_seen = np.array([276, 393, 330, 478], np.float32)  # their box as they went down
    look = CloserLook(pose()).look(image, found, [last_seen])
    assert look.crops == 1 and len(look.people) == 0 and len(look.found) == 1
    x1, y1, x2, y2 = look.found.xyxy[0]
    assert x2 - x1 > y2 - y1, "found lying (wider than tall)"
    assert x1 < last_seen[2] and x2 > last_seen[0] and y1 < last_seen[3] and y2 > last_seen[1]
    assert np.all(look.found.data[KEYPOINTS][..., 2] == 0), "a box only"
