"""Body posture from a box and COCO keypoints: torso angle, standing or down."""

import numpy as np

SHOULDERS = (5, 6)
HIPS = (11, 12)
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


def aspect(box: np.ndarray) -> float:
    """Box width over height."""
    return float((box[2] - box[0]) / max(box[3] - box[1], 1e-6))


def is_up(box: np.ndarray, torso: float | None) -> bool:
    """Standing, walking or sitting upright: a tall box and, when seen, an upright torso."""
    return aspect(box) < 0.8 and (torso is None or torso < 35.0)


def is_down(box: np.ndarray, torso: float | None) -> bool:
    """Lying or crawling: a wide box, or a torso far from upright."""
    return aspect(box) >= 1.0 or (torso is not None and torso >= 55.0)
