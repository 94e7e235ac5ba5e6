"""The people a camera's fall analysis follows: one body per person, kept through missed and
low-confidence detections, tracker identity switches and the pose model losing someone on the
floor (then the fall model's boxes or the still scene keep them in place)."""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import supervision as sv

from edge.analysers.base import Observation
from edge.analysers.posture import hips, legs, torso_angle, torso_length
from edge.detect.base import CLASS_SCORES, KEYPOINTS

SCORE_IOU = 0.3
"""Overlap from which a fall-model box scores a pose box."""
PLACE_OVERLAP = 0.3
"""Share of the smaller box two boxes must share to be the same place."""
MOVED_SHARE = 0.04
"""Share of a held body's box that must change in the motion mask to count as movement."""
STILL_SHIFT = 0.25
"""Most a still body's box centre moves between sightings, in its long side's lengths."""
STILL_AREA = 1.5
"""Most a still body's box area grows or shrinks between sightings (a factor)."""
STILL_GAP_S = 1.5
"""Longest gap between two sightings compared for stillness."""
EDGE_SHARE = 0.015
"""Share of the frame's size within which a box counts as touching its edge."""
FELL_WHERE_STOOD_S = 1.5
"""How soon after losing someone a box across their feet is taken for them fallen."""
HISTORY_S = 8.0
"""Seconds of samples each body keeps."""


@dataclass(slots=True)
class Sample:
    """One sighting of a body: its box in pixels and what the models said of it."""

    t: float
    box: np.ndarray
    torso: float | None = None
    """Degrees from vertical, when shoulders and hips are seen confidently."""
    torso_length: float | None = None
    """Pixels from hips to shoulders, when seen confidently."""
    hips: tuple[float, float] | None = None
    """Where the hips are (pixels), when seen confidently."""
    legs: tuple[float, float] | None = None
    """Hip→ankle angle from straight down (degrees) and length (pixels), when seen (never
    for a box at the frame's bottom edge, whose feet may be out of view)."""
    fall: float | None = None
    """The fall model's Fall score for this body, when it was asked and found it."""
    normal: float | None = None
    """The fall model's Normal score for this body, when it was asked and found it."""
    source: str = "track"
    """`track`, `untracked` (a pose box the tracker did not confirm), `fall_model` or
    `closer` (a box found on a crop where the frame lost the body)."""
    cut: bool = False
    """Whether the box touches the frame's edge (the person may be partly out of view, so
    its width or height says less)."""
    cut_height: bool = False
    """Whether it touches the top or bottom edge (its height may be short of the person's)."""
    still: bool = False
    """Whether the box is about where the body's previous one was (set when it is added)."""

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def aspect(self) -> float:
        """Width over height."""
        return self.width / max(self.height, 1.0)

    @property
    def centre_y(self) -> float:
        return float(self.box[1] + self.box[3]) / 2


@dataclass(slots=True)
class Body:
    """A person the fall analysis follows."""

    key: int
    box: np.ndarray
    seen_t: float
    track_id: int | None = None
    samples: deque[Sample] = field(default_factory=deque)
    watched: bool = False
    """Set by the analyser while the body matters (a candidate, down, in an episode): then
    it is held in place when unseen and untracked boxes are matched to it."""
    still_since: float | None = None
    """Since when its consecutive sightings have been still."""
    moved_since_seen: bool = False
    """Whether the motion mask changed inside the body's box since it was last seen."""

    @property
    def last(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    def add(self, sample: Sample) -> None:
        previous = self.last
        if previous is not None and sample.t - previous.t <= STILL_GAP_S:
            sample.still = about_the_same(previous.box, sample.box)
        if not sample.still:
            self.still_since = None
        elif self.still_since is None:
            self.still_since = previous.t if previous is not None else sample.t
        self.samples.append(sample)
        self.box, self.seen_t, self.moved_since_seen = sample.box, sample.t, False
        while self.samples and sample.t - self.samples[0].t > HISTORY_S:
            self.samples.popleft()


UpTest = Callable[[Body | None, Sample], bool]
"""Whether a sample shows its body (None: a body not yet known) upright."""


def _edge_margin(size: int) -> float:
    """Pixels from the frame's edge within which a box touches it."""
    return max(2.0, EDGE_SHARE * size)


def touches_edge(box: np.ndarray, width: int, height: int, sides: bool = True) -> bool:
    """Whether a box comes within EDGE_SHARE of the frame's edge (with `sides` False: of
    its top or bottom)."""
    x1, y1, _, _ = box
    if y1 <= _edge_margin(height) or touches_bottom(box, height):
        return True
    margin_x = _edge_margin(width)
    return sides and bool(x1 <= margin_x or box[2] >= width - margin_x)


def touches_bottom(box: np.ndarray, height: int) -> bool:
    """Whether a box comes within EDGE_SHARE of the frame's bottom: the person's feet may be
    out of view, and the ankles the pose model gives are guesses."""
    return bool(box[3] >= height - _edge_margin(height))


def feet_near(place: np.ndarray, box: np.ndarray) -> bool:
    """Whether the feet (bottom centre) of `box` stand on or beside `place`, as someone
    getting up from there would."""
    width, height = place[2] - place[0], place[3] - place[1]
    x, y = (box[0] + box[2]) / 2, box[3]
    margin_x = width * 0.15
    margin_y = max(height / 2, (box[3] - box[1]) * 0.15)
    return bool(
        place[0] - margin_x <= x <= place[2] + margin_x
        and place[1] - margin_y <= y <= place[3] + margin_y
    )


def about_the_same(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two boxes show a body at rest: centres within STILL_SHIFT of the long side,
    areas within STILL_AREA of each other (a pose box on compressed video jitters by more than
    an overlap test allows while the body lies still)."""
    long_side = max(a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1], 1.0)
    shift = np.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)
    area_a = max((a[2] - a[0]) * (a[3] - a[1]), 1.0)
    area_b = max((b[2] - b[0]) * (b[3] - b[1]), 1.0)
    return bool(
        shift <= STILL_SHIFT * long_side and max(area_a, area_b) <= STILL_AREA * min(area_a, area_b)
    )


def place_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box's area (1 when one box holds the other)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(width * height / max(smaller, 1.0))


class Bodies:
    """Keeps a body per person from the tracked people, the tracker's unconfirmed boxes and
    the fall model's boxes of each observation."""

    def __init__(self, forget_s: float) -> None:
        self.forget_s = forget_s
        self.all: dict[int, Body] = {}
        self._by_track: dict[int, int] = {}
        self._next = 0

    def update(self, obs: Observation, is_up: UpTest) -> list[Body]:
        """Bodies seen on `obs` (each with a new sample); unseen ones keep their place."""
        if not obs.detected:
            self._note_motion(obs)
            return []
        seen: dict[int, Body] = {}
        people = obs.people
        ids = people.tracker_id if people.tracker_id is not None else np.empty(0, int)
        fall_boxes = obs.second_opinion
        for row, track_id in enumerate(ids):
            sample = self._sample(obs, people, row, fall_boxes)
            body = self._body_for_track(int(track_id), sample, is_up, seen)
            body.add(sample)
            seen[body.key] = body
        for row in range(len(obs.untracked)):
            sample = self._sample(obs, obs.untracked, row, fall_boxes, "untracked")
            held = self._held_at(sample.box, seen, obs.t)
            if held is not None and not is_up(held, sample):
                held.add(sample)
                seen[held.key] = held
        if fall_boxes is not None:
            for sample in self._fall_samples(obs, fall_boxes):
                held = self._held_at(sample.box, seen, obs.t)
                if held is not None:
                    held.add(sample)
                    seen[held.key] = held
        for row in range(len(obs.found_closer)):  # last: only for a body nothing else saw
            sample = self._sample(obs, obs.found_closer, row, fall_boxes, "closer")
            held = self._held_at(sample.box, seen, obs.t)
            if held is not None:
                held.add(sample)
                seen[held.key] = held
        self._note_motion(obs, seen)
        for key, body in list(self.all.items()):
            if key not in seen and not body.watched and obs.t - body.seen_t > self.forget_s:
                self.forget(body)
        return list(seen.values())

    def forget(self, body: Body) -> None:
        """Stop following `body`."""
        self.all.pop(body.key, None)
        if body.track_id is not None and self._by_track.get(body.track_id) == body.key:
            del self._by_track[body.track_id]

    def clear(self) -> None:
        self.all.clear()
        self._by_track.clear()

    def _body_for_track(
        self, track_id: int, sample: Sample, is_up: UpTest, seen: dict[int, Body]
    ) -> Body:
        key = self._by_track.get(track_id)
        body = self.all.get(key) if key is not None else None
        if (
            body is not None
            and body.watched
            and is_up(body, sample)
            and not feet_near(body.box, sample.box)
        ):
            # The track jumped to an upright box standing elsewhere: another person, not
            # this one getting up. The body stays where it was seen down.
            body.track_id = None
            del self._by_track[track_id]
            body = None
        if body is None and not is_up(None, sample):
            body = self._held_at(sample.box, seen, sample.t)
        if body is None:
            body = Body(self._next, sample.box, sample.t)
            self._next += 1
            self.all[body.key] = body
        if body.track_id != track_id:
            if body.track_id is not None:
                self._by_track.pop(body.track_id, None)
            body.track_id = track_id
            self._by_track[track_id] = body.key
        return body

    def _held_at(self, box: np.ndarray, seen: dict[int, Body], t: float) -> Body | None:
        """The watched, unseen body whose place `box` overlaps most, or that `box` lies
        across the feet of (someone who fell where they stood), if any."""
        best, best_overlap = None, PLACE_OVERLAP
        for body in self.all.values():
            if not body.watched or body.key in seen:
                continue
            overlap = place_overlap(body.box, box)
            just_lost = t - body.seen_t <= FELL_WHERE_STOOD_S
            if overlap < PLACE_OVERLAP and just_lost and feet_near(box, body.box):
                overlap = PLACE_OVERLAP
            if overlap >= best_overlap:
                best, best_overlap = body, overlap
        return best

    def _sample(
        self,
        obs: Observation,
        people: sv.Detections,
        row: int,
        fall_boxes: sv.Detections | None,
        source: str = "track",
    ) -> Sample:
        box = people.xyxy[row].astype(float)
        keypoints = people.data.get(KEYPOINTS)
        points = keypoints[row] if keypoints is not None and len(keypoints) > row else None
        fall = normal = None
        if fall_boxes is not None and len(fall_boxes):
            iou = sv.box_iou_batch(box[None, :], fall_boxes.xyxy)[0]
            best = int(iou.argmax())
            if iou[best] >= SCORE_IOU:
                scores = np.asarray(fall_boxes.data[CLASS_SCORES])[best]
                normal, fall = float(scores[0]), float(scores[1])
        return Sample(
            obs.t,
            box,
            torso_angle(points),
            torso_length(points),
            hips(points),
            None if touches_bottom(box, obs.height) else legs(points),
            fall,
            normal,
            source,
            touches_edge(box, obs.width, obs.height),
            touches_edge(box, obs.width, obs.height, sides=False),
        )

    @staticmethod
    def _fall_samples(obs: Observation, fall_boxes: sv.Detections) -> list[Sample]:
        scores = np.asarray(fall_boxes.data[CLASS_SCORES])
        samples = []
        for box, (normal, fall) in zip(fall_boxes.xyxy.astype(float), scores, strict=True):
            if fall > normal:
                sample = Sample(obs.t, box, fall=float(fall), normal=float(normal))
                sample.cut = touches_edge(box, obs.width, obs.height)
                sample.cut_height = touches_edge(box, obs.width, obs.height, sides=False)
                samples.append(sample)
        return samples

    def _note_motion(self, obs: Observation, seen: dict[int, Body] | None = None) -> None:
        mask = obs.motion_mask
        if mask is None:
            return
        scale_x, scale_y = mask.shape[1] / obs.width, mask.shape[0] / obs.height
        for body in self.all.values():
            if (seen and body.key in seen) or body.moved_since_seen:
                continue
            x1, y1 = int(body.box[0] * scale_x), int(body.box[1] * scale_y)
            x2, y2 = int(np.ceil(body.box[2] * scale_x)), int(np.ceil(body.box[3] * scale_y))
            region = mask[max(0, y1) : max(y1 + 1, y2), max(0, x1) : max(x1 + 1, x2)]
            if region.size and np.count_nonzero(region) / region.size >= MOVED_SHARE:
                body.moved_since_seen = True
