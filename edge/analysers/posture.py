"""Body posture from a box and COCO keypoints: torso angle, standing or down."""

import numpy as np

SHOULDERS = (5, 6)
HIPS = (11, 12)
ANKLES = (15, 16)
KEYPOINT_MIN_CONF = 0.5


def torso_angle(keypoints: np.ndarray | None) -> float | None:
    """Degrees between the hip→shoulder line and straight up (0 upright, 90 lying), or None
    when a shoulder or a hip is not seen confidently."""
    if keypoints is None:
        return None
    shoulders = keypoints[list(SHOULDERS)]
    hips = keypoints[list(HIPS)]
    good_s = shoulders[:, 2] >= KEYPOINT_MIN_CONF
    good_h = hips[:, 2] >= KEYPOINT_MIN_CONF
    if not good_s.any() or not good_h.any():
        return None
    vector = shoulders[good_s, :2].mean(axis=0) - hips[good_h, :2].mean(axis=0)
    return float(np.degrees(np.arctan2(abs(vector[0]), -vector[1])))


def torso_length(keypoints: np.ndarray | None) -> float | None:
    """Pixels from the hips to the shoulders (short when the torso points at the camera),
    or None when a shoulder or a hip is not seen confidently."""
    if keypoints is None:
        return None
    shoulders, hips_ = keypoints[list(SHOULDERS)], keypoints[list(HIPS)]
    good_s, good_h = shoulders[:, 2] >= KEYPOINT_MIN_CONF, hips_[:, 2] >= KEYPOINT_MIN_CONF
    if not good_s.any() or not good_h.any():
        return None
    vector = shoulders[good_s, :2].mean(axis=0) - hips_[good_h, :2].mean(axis=0)
    return float(np.hypot(vector[0], vector[1]))


def hips(keypoints: np.ndarray | None) -> tuple[float, float] | None:
    """Where the hips are (mean of the confidently seen ones), in pixels, or None."""
    if keypoints is None:
        return None
    points = keypoints[list(HIPS)]
    good = points[:, 2] >= KEYPOINT_MIN_CONF
    if not good.any():
        return None
    x, y = points[good, :2].mean(axis=0)
    return float(x), float(y)


def legs(keypoints: np.ndarray | None) -> tuple[float, float] | None:
    """Degrees between the hip→ankle line and straight down, and its length in pixels, or
    None when a hip or an ankle is not seen confidently."""
    if keypoints is None:
        return None
    hips, ankles = keypoints[list(HIPS)], keypoints[list(ANKLES)]
    good_h, good_a = hips[:, 2] >= KEYPOINT_MIN_CONF, ankles[:, 2] >= KEYPOINT_MIN_CONF
    if not good_h.any() or not good_a.any():
        return None
    vector = ankles[good_a, :2].mean(axis=0) - hips[good_h, :2].mean(axis=0)
    angle = float(np.degrees(np.arctan2(abs(vector[0]), vector[1])))
    return angle, float(np.hypot(vector[0], vector[1]))


def aspect(box: np.ndarray) -> float:
    """Box width over height."""
    return float((box[2] - box[0]) / max(box[3] - box[1], 1e-6))


def is_up(box: np.ndarray, torso: float | None) -> bool:
    """Standing, walking or sitting upright: a tall box and, when seen, an upright torso."""
    return aspect(box) < 0.8 and (torso is None or torso < 35.0)


def is_down(box: np.ndarray, torso: float | None) -> bool:
    """Lying or crawling: a wide box, or a torso far from upright."""
    return aspect(box) >= 1.0 or (torso is not None and torso >= 55.0)
