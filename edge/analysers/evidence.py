"""Evidence that a person is down or has fallen, as log-odds that add up.

Each cue gives log-odds for "lying or collapsed" against "upright, sitting or crouching";
a cue that cannot be measured (keypoints not confident, fall model not asked) gives 0, so the
evidence degrades gracefully instead of failing a hard threshold. docs/edge.md explains the
cues and how their weights were chosen.
"""

import math
from dataclasses import dataclass

from edge.analysers.bodies import Sample

CUE_LIMIT = 2.5
"""No single cue may say more than this (log-odds), so no one model decides alone."""
SAMPLE_LIMIT = 3.0
"""Most log-odds one sample adds to a candidate's evidence, either way."""


def _clip(value: float, limit: float = CUE_LIMIT) -> float:
    return max(-limit, min(limit, value))


@dataclass(frozen=True, slots=True)
class Reference:
    """How a person looked when last seen up: the tallest upright sample shortly before."""

    t: float
    height: float
    aspect: float
    centre_y: float
    top: float
    bottom: float
    torso_length: float | None
    hips: tuple[float, float] | None
    legs: float | None
    """Hip-to-ankle length in pixels when seen confidently."""
    cut: bool
    """Whether the upright box touched the frame's edge (its shape says less then)."""
    cut_height: bool
    """Whether it touched the top or bottom edge (its height says less then)."""
    fall: float | None
    """The fall model's Fall minus Normal score for them while up, when it was asked (some
    scenes make the model say Fall for everyone: then only a change counts)."""
    upright: bool = True
    """False for a body last seen lying higher up (on a bed): its shape and height are no
    measure of the posture now."""

    @classmethod
    def of(cls, sample: Sample, upright: bool = True) -> "Reference":
        return cls(
            sample.t,
            sample.height,
            sample.aspect,
            sample.centre_y,
            float(sample.box[1]),
            float(sample.box[3]),
            sample.torso_length,
            sample.hips,
            sample.legs[1] if sample.legs else None,
            sample.cut,
            sample.cut_height,
            fall_margin(sample),
            upright,
        )


def fall_margin(sample: Sample) -> float | None:
    """Fall minus Normal score of the fall model for a sample (−1…1), when it was asked."""
    if sample.fall is None:
        return None
    return sample.fall - (sample.normal or 0.0)


def shape_cue(sample: Sample, ref: Reference | None) -> float:
    """A wide box says lying; so does a box much wider than the person's own upright one
    (a high camera shows upright people wider than a level one does)."""
    if _leaving(sample):
        return 0.0
    cue = 2.0 * (sample.aspect - 1.0)
    if ref is not None and ref.upright and not ref.cut:
        cue = max(cue, 1.5 * math.log2(max(sample.aspect, 1e-3) / max(ref.aspect, 1e-3)) - 1.5)
    return _clip(cue)


def torso_cue(sample: Sample, ref: Reference | None) -> float:
    """A torso far from vertical says lying. A torso much shorter than when standing points
    at the camera or away from it, so its angle in the image says nothing."""
    if sample.torso is None:
        return 0.0
    if _foreshortened(sample, ref):
        return 0.0
    return _clip((sample.torso - 45.0) / 10.0)


def _foreshortened(sample: Sample, ref: Reference | None) -> bool:
    if sample.torso_length is None or ref is None or ref.torso_length is None:
        return False
    return sample.torso_length < 0.6 * ref.torso_length


def fall_model_cue(sample: Sample, ref: Reference | None) -> float:
    """The fall model's Fall against Normal score, less what it said of the person upright."""
    margin = fall_margin(sample)
    if margin is None:
        return 0.0
    bias = ref.fall if ref is not None and ref.fall is not None else 0.0
    return _clip(2.5 * (margin - max(0.0, bias)))


def shrink_cue(sample: Sample, ref: Reference | None) -> float:
    """A box much shorter than the person's upright one says down (lying or slumped)."""
    if ref is None or not ref.upright or ref.cut_height or _leaving(sample):
        return 0.0
    shrink = 1.0 - sample.height / max(ref.height, 1.0)
    return _clip(4.0 * (shrink - 0.45), 2.0)


def legs_cap(sample: Sample, ref: Reference | None) -> float | None:
    """Most posture log-odds the legs allow: legs still straight and upright (hip above
    ankle, about as long as when standing) mean bending over, not lying, however horizontal
    the torso. None when hips and ankles were not seen both times."""
    if ref is None or ref.legs is None or sample.legs is None:
        return None
    angle, length = sample.legs
    straight = length / max(ref.legs, 1.0)
    return (angle - 25.0) / 5.0 + 4.0 * (0.6 - straight)


def posture(sample: Sample, ref: Reference | None) -> float:
    """Log-odds that `sample` shows its person lying or collapsed."""
    score = (
        shape_cue(sample, ref)
        + torso_cue(sample, ref)
        + fall_model_cue(sample, ref)
        + shrink_cue(sample, ref)
    )
    caps = [c for c in (legs_cap(sample, ref),) if c is not None]
    return min([score, *caps])


def collapse(sample: Sample, ref: Reference) -> float:
    """How far the body came down since `ref`, 1 being a typical fall: the largest of the
    box's shrink (a high camera sees little drop but a shrink) and the drops of its top
    and centre, each against the upright height and its size in a typical fall."""
    height = max(ref.height, 1.0)
    top = (float(sample.box[1]) - ref.top) / height / 0.8
    centre = (sample.centre_y - ref.centre_y) / height / 0.5
    shrink = 0.0 if ref.cut_height else (1.0 - sample.height / height) / 0.65
    # A box that shrinks while its top stays put is someone lying back from sitting (the
    # legs leave the box), not coming down: a shrink counts as far as the top came down.
    return max(top, centre, min(shrink, top / 0.3))


def _leaving(sample: Sample) -> bool:
    """Cut at the top or bottom and moving: someone walking out of view, whose box shrinks
    and widens without them coming down. Still at the edge: someone lying partly out of
    view."""
    return sample.cut_height and not sample.still


def transition(sample: Sample, ref: Reference, last_up: Sample, neutral: float) -> float:
    """Log-odds of a fall from how far the body came down (`collapse`; `neutral` is neither
    evidence for nor against) and how fast: within a second of last being up."""
    seconds = sample.t - last_up.t
    speed = 1.0 if seconds <= 1.0 else (0.0 if seconds <= 2.0 else -1.0)
    evidence = _clip(8.0 * (collapse(sample, ref) - neutral), 3.0) + speed
    if ref.hips is not None and sample.hips is not None:
        # Hips that stayed put: a pivot (lying back from sitting, bending over), not a fall.
        shift = math.dist(ref.hips, sample.hips) / max(ref.height, 1.0)
        evidence = min(evidence, 10.0 * (shift - 0.15))
    return evidence
