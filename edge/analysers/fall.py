"""Fall: a person who was up is seen down after a fast drop, and stays down.

Evidence degrades gracefully: box geometry always, torso angle when keypoints are good, and
the fall model's score for the same person when it is enabled (it also keeps a fallen person
in view when the pose model loses them, as it does for people lying close to a low camera).
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from statistics import median

import numpy as np
import supervision as sv

from edge.analysers.base import Analyser, Episode, Finding, Observation
from edge.analysers.posture import is_down, is_up, torso_angle
from edge.config.analysers import FallConfig
from edge.detect.base import KEYPOINTS
from shouwang.contracts import EventType, Phase

BED_TAG = "bed"
FALL_SCORE = 0.5
"""Fall-model score from which a person counts as classified Fall."""
MATCH_IOU = 0.3


@dataclass(slots=True)
class _Person:
    """What the fall analyser remembers about one track."""

    box: np.ndarray
    seen_t: float
    ups: deque[tuple[float, float, float]] = field(default_factory=deque)
    """(t, box top, box height) of recent samples where the person was up."""
    candidate_t: float | None = None
    drop: float = 0.0
    downs: int = 0
    scores: list[float] = field(default_factory=list)
    up_since: float | None = None
    episode: Episode | None = None
    severe: bool = False


def fall_scores(boxes: np.ndarray, opinion: sv.Detections | None, fall_class: int) -> np.ndarray:
    """Fall score of the best-overlapping fall-model box for each box (NaN when none)."""
    scores = np.full(len(boxes), np.nan)
    if opinion is None or len(opinion) == 0 or len(boxes) == 0:
        return scores
    iou = sv.box_iou_batch(boxes, opinion.xyxy)
    best = iou.argmax(axis=1)
    matched = iou[np.arange(len(boxes)), best] >= MATCH_IOU
    class_scores = np.asarray(opinion.data["class_scores"])
    scores[matched] = class_scores[best[matched], fall_class]
    return scores


class FallAnalyser(Analyser):
    """Per tracked person: up → fast drop → down for `confirm_s` → fall event."""

    def __init__(self, config: FallConfig, fall_class: int = 1) -> None:
        self.config = config
        self.fall_class = fall_class
        self.people: dict[int, _Person] = {}

    def wants_second_opinion(self) -> bool:
        """True while someone is a fall candidate or down in an open episode."""
        return any(p.candidate_t is not None or p.episode for p in self.people.values())

    def observe(self, obs: Observation) -> list[Finding]:
        """Update every tracked person; start, update or end fall episodes."""
        if not self.config.enabled or not obs.detected:
            return []
        seen: set[int] = set()
        ids = obs.people.tracker_id if obs.people.tracker_id is not None else np.empty(0, int)
        scores = fall_scores(obs.people.xyxy, obs.second_opinion, self.fall_class)
        keypoints = obs.people.data.get(KEYPOINTS)
        for row, track_id in enumerate(ids):
            box = obs.people.xyxy[row]
            torso = torso_angle(keypoints[row] if keypoints is not None else None)
            score = None if np.isnan(scores[row]) else float(scores[row])
            in_bed = any(BED_TAG in obs.zones.by_name(z).tags for z in obs.zones_of(row))
            person = self.people.setdefault(int(track_id), _Person(box, obs.t))
            self._update(person, obs, box, torso, score, in_bed)
            seen.add(int(track_id))
        self._update_unseen(obs, seen)
        findings: list[Finding] = []
        for track_id, person in list(self.people.items()):
            findings += self._decide(track_id, person, obs)
        return findings

    def finish(self, obs: Observation) -> list[Finding]:
        """End every open fall episode."""
        findings = [
            self._end(track_id, p, obs, "source_ended")
            for track_id, p in self.people.items()
            if p.episode
        ]
        self.people.clear()
        return findings

    def _update(
        self,
        person: _Person,
        obs: Observation,
        box: np.ndarray,
        torso: float | None,
        score: float | None,
        in_bed: bool,
    ) -> None:
        person.box, person.seen_t = box, obs.t
        height = float(box[3] - box[1])
        classified_fall = score is not None and score >= FALL_SCORE
        if is_up(box, torso) and not classified_fall:
            person.ups.append((obs.t, float(box[1]), height))
            person.candidate_t = None
            person.up_since = person.up_since if person.up_since is not None else obs.t
            return
        person.up_since = None
        while person.ups and obs.t - person.ups[0][0] > self.config.upright_window_s:
            person.ups.popleft()
        if not (is_down(box, torso) or classified_fall):
            return
        if person.candidate_t is not None:
            person.downs += 1
            person.scores += [score] if score is not None else []
        elif person.episode is None and not in_bed and person.ups:
            drop = max((box[1] - top) / max(h, 1.0) for _, top, h in person.ups)
            if drop >= self.config.min_drop:
                person.candidate_t, person.drop, person.downs = obs.t, float(drop), 1
                person.scores = [score] if score is not None else []

    def _update_unseen(self, obs: Observation, seen: set[int]) -> None:
        """People the pose model lost: the fall model may still see them down."""
        watched = [
            (track_id, p)
            for track_id, p in self.people.items()
            if track_id not in seen and (p.candidate_t is not None or p.episode)
        ]
        if not watched or obs.second_opinion is None:
            return
        boxes = np.array([p.box for _, p in watched])
        scores = fall_scores(boxes, obs.second_opinion, self.fall_class)
        iou = sv.box_iou_batch(boxes, obs.second_opinion.xyxy)
        for (_, person), score, overlaps in zip(watched, scores, iou, strict=True):
            if np.isnan(score) or score < FALL_SCORE:
                continue
            person.box, person.seen_t = obs.second_opinion.xyxy[int(overlaps.argmax())], obs.t
            if person.candidate_t is not None:
                person.downs += 1
                person.scores.append(float(score))

    def _decide(self, track_id: int, person: _Person, obs: Observation) -> list[Finding]:
        config = self.config
        if person.episode is not None:
            return self._follow(track_id, person, obs)
        if person.candidate_t is not None and obs.t - person.candidate_t >= config.confirm_s:
            agreed = not person.scores or median(person.scores) >= FALL_SCORE
            if person.downs >= 2 and agreed:
                return [self._start(track_id, person, obs)]
            if obs.t - person.candidate_t >= config.confirm_s + config.upright_window_s:
                person.candidate_t = None
        if obs.t - person.seen_t > max(config.upright_window_s, config.recover_s) * 2:
            del self.people[track_id]
        return []

    def _start(self, track_id: int, person: _Person, obs: Observation) -> Finding:
        score = median(person.scores) if person.scores else None
        confidence = score if score is not None else min(0.95, 0.5 + person.drop / 2)
        assert person.candidate_t is not None
        started = obs.at - timedelta(seconds=obs.t - person.candidate_t)
        person.episode = Episode(f"fall:{track_id}", started, person.candidate_t, obs.t)
        person.episode.attributes = {"drop": round(person.drop, 2)}
        if score is not None:
            person.episode.attributes["fall_score"] = round(score, 3)
        person.episode.offer(obs, confidence, person.box)
        person.candidate_t = None
        down_s = round(obs.t - person.episode.started_t, 1)
        return person.episode.finding(
            obs, EventType.FALL, Phase.START, track_id=track_id, attributes={"down_s": down_s}
        )

    def _follow(self, track_id: int, person: _Person, obs: Observation) -> list[Finding]:
        episode = person.episode
        assert episode is not None
        config = self.config
        recovered = person.up_since is not None and obs.t - person.up_since >= config.recover_s
        gone = obs.t - person.seen_t >= config.recover_s
        if recovered or gone:
            return [self._end(track_id, person, obs)]
        down_s = round(obs.t - episode.started_t, 1)
        if not person.severe and down_s >= config.down_alert_s:
            person.severe = True
            episode.attributes["severity"] = "high"
        elif obs.t - episode.last_event_t < config.update_s:
            return []
        return [
            episode.finding(
                obs, EventType.FALL, Phase.UPDATE, track_id=track_id, attributes={"down_s": down_s}
            )
        ]

    def _end(
        self, track_id: int, person: _Person, obs: Observation, reason: str | None = None
    ) -> Finding:
        episode = person.episode
        assert episode is not None
        person.episode, person.severe = None, False
        reason = reason or ("up" if person.up_since is not None else "gone")
        return episode.finding(
            obs,
            EventType.FALL,
            Phase.END,
            track_id=track_id,
            attributes={"down_s": round(obs.t - episode.started_t, 1), "end_reason": reason},
        )
