"""Falls and people down: a person who was up drops fast into a down posture and stays down
(`fall`), and a person lying on the floor outside a bed, sofa or mat zone for `down_alert_s`,
whether or not the drop was seen (`person_down`).

Evidence adds up (edge/analysers/evidence.py): box shape against the person's own upright
shape, torso angle when keypoints are confident, the fall model's score, how much shorter the
box got, and how far and fast the body dropped. A candidate accumulates it sample by sample
until it is confident either way. People are followed as bodies (edge/analysers/bodies.py),
so a candidate survives the pose model losing them on the floor and tracker identity switches.
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta

import cv2
import numpy as np

from edge.analysers.base import Analyser, Episode, Finding, Observation, Watch
from edge.analysers.bodies import Bodies, Body, Sample
from edge.analysers.evidence import SAMPLE_LIMIT, Reference, fall_margin, posture, transition
from edge.config.analysers import FallConfig
from shouwang.contracts import EventType, Phase

REST_TAGS = ("bed", "sofa", "mat")
"""Zone tags of places where people lie down on purpose: no fall, no person_down there."""
CONFIRM = 7.0
"""Log-odds (drop plus posture since) a candidate needs to become a fall."""
STEP_S = 0.2
"""Seconds one sample stands for at the usual 5 detections a second."""
SAMPLE_BAR = 1.0
"""Posture log-odds a sample must pass to add to a candidate (a box that only looks a bit
down adds little, so crouching for a few seconds does not add up to a fall)."""
POSTURE_LIMIT = 6.0
"""Most log-odds the posture after a drop may add, so lying long is no fall without one."""
CANCEL = -3.0
"""Log-odds at which a candidate is dropped."""
OPEN = 0.0
"""Log-odds of the drop plus the first down sample that opens a candidate."""
LYING = 1.0
"""Posture log-odds from which a person counts as lying, and that their posture must average
over the time they lie for a person_down (a box that only flickers into a lying shape, such as
an object taken for a person on compressed video, does not add up to one)."""
UP = -1.0
"""Posture log-odds at or below which an upright-looking box counts as up."""
REST_S = 1.2
"""Seconds a candidate must lie still before the fall is confirmed; people crouching or
kneeling for a moment get up again within this."""
REST_CLEAR_S = 0.4
"""The same when the posture is clearly lying (CLEAR_POSTURE on average)."""
CLEAR_POSTURE = 4.5
"""Mean posture log-odds of a candidate that is clearly lying."""
CANDIDATE_MAX_S = 6.0
"""A candidate that is neither confirmed nor dropped in this time is dropped."""
SHRUNK = 0.6
"""A box shorter than this share of the person's upright height is not up."""
HOLD_MAX_S = 60.0
"""Longest a watched body is held in place while no model sees it and nothing moves there."""
FALL_FROM_LYING = 0.3
"""Drop of the body's centre, in body lengths, that makes a fall without an upright phase
(rolling off a bed); it must also be at least the earlier box's height, so shifting while
lying is no fall."""
FARTHER = 0.5
"""Share of the height a person lost by which their feet must have risen in the image for a
shorter box to be perspective (walking away from a near camera), not a collapse."""
CONFIRM_SLACK_S = 1e-6
"""Rounding slack on `confirm_s` (samples at exactly the configured delay confirm)."""


def _walked_away(sample: Sample, ref: Reference) -> bool:
    """Shorter because farther: a person walking away from a near camera gets shorter as
    their feet rise in the image; one who collapses gets shorter from the top down."""
    return ref.bottom - float(sample.box[3]) >= FARTHER * (ref.height - sample.height)


@dataclass(slots=True)
class _Candidate:
    """A possible fall being decided."""

    t: float
    ref: Reference
    last_up: Sample
    drop: float
    """Log-odds of the drop: the most any sample since the opening showed."""
    posture: float = 0.0
    """Log-odds of the posture since, summed sample by sample (within ±POSTURE_LIMIT)."""
    downs: int = 0
    ups: int = 0
    margins: list[float] = field(default_factory=list)
    seen_t: float = 0.0
    posture_sum: float = 0.0
    samples: int = 0

    @property
    def evidence(self) -> float:
        return self.drop + self.posture

    @property
    def mean_posture(self) -> float:
        return self.posture_sum / max(self.samples, 1)

    def add(self, score: float, t: float) -> None:
        """Add a sample's posture, weighted by the time it stands for (so evidence grows per
        second seen, whatever the detection rate)."""
        weight = min(max(t - self.seen_t, STEP_S), 1.0) / STEP_S if self.seen_t else 1.0
        step = max(-SAMPLE_LIMIT, min(SAMPLE_LIMIT, score - SAMPLE_BAR)) * min(weight, 2.0)
        self.posture = max(-POSTURE_LIMIT, min(POSTURE_LIMIT, self.posture + step))
        self.downs += score > 0
        self.seen_t = t
        self.posture_sum += score
        self.samples += 1


@dataclass(slots=True)
class _Lying:
    """Since when a person has been lying (not up again since), and how clearly."""

    since: float
    posture_sum: float = 0.0
    samples: int = 0

    @property
    def mean_posture(self) -> float:
        return self.posture_sum / max(self.samples, 1)

    def add(self, score: float) -> None:
        self.posture_sum += score
        self.samples += 1


@dataclass(slots=True)
class _Person:
    """What the analyser remembers of one body."""

    ups: deque[Sample] = field(default_factory=deque)
    up_now: bool = False
    """Whether the last detection showed them up (False when it missed them)."""
    left_view: bool = False
    """Unseen since they were last seen up at the frame's left or right edge: they walked out
    of view (no need for the fall model). Close to the camera people touch the top and
    bottom edges while up, and fall there."""
    up_since: float | None = None
    lying: _Lying | None = None
    candidate: _Candidate | None = None
    fall: Episode | None = None
    down: Episode | None = None
    long_lie: bool = False
    in_bed: bool = False
    ref: Reference | None = None
    """How they looked when last seen up (kept while they are down)."""

    @property
    def busy(self) -> bool:
        """Whether anything is being decided or is open for this person."""
        return bool(self.candidate or self.fall or self.down or self.lying is not None)

    @property
    def dropping(self) -> bool:
        """Up a moment ago, not up (or not seen) now: a fall may be under way."""
        return bool(self.ups) and not self.up_now and not self.left_view

    @property
    def watched(self) -> bool:
        return self.busy or self.dropping


class FallAnalyser(Analyser):
    """Per body: up → drop → evidence adds up → fall; lying `down_alert_s` → person_down."""

    def __init__(self, config: FallConfig, fall_class: int = 1) -> None:
        self.config = config
        self.fall_class = fall_class
        forget_s = max(config.upright_window_s, config.recover_s) * 2
        self.bodies = Bodies(forget_s)
        self.people: dict[int, _Person] = {}

    def watch(self) -> Watch:
        """Keep detecting while someone is down or being decided; ask the fall model then,
        and while someone who was just up is not up (a drop may be under way); look closer
        where they are."""
        watched = [key for key, p in self.people.items() if p.watched]
        deciding = any(p.candidate is not None for p in self.people.values())
        places = tuple(self.bodies.all[key].box for key in watched if key in self.bodies.all)
        return Watch(
            keep_detecting=bool(watched),
            every_frame=deciding,
            second_opinion=bool(watched),
            look_closer=places,
        )

    def observe(self, obs: Observation) -> list[Finding]:
        """Update every body; start, update or end fall and person-down episodes."""
        if not self.config.enabled:
            return []
        seen = {body.key for body in self.bodies.update(obs, self._is_up)}
        findings: list[Finding] = []
        for key, body in list(self.bodies.all.items()):
            person = self.people.setdefault(key, _Person())
            if key in seen:
                person.in_bed = self._in_bed(obs, body.box)
                self._update(body, person)
            elif obs.detected:
                last = body.last
                if person.up_now and last is not None and last.cut and not last.cut_height:
                    person.left_view = True  # up at a side edge: walked out of view
                person.up_now = False
                while person.ups and obs.t - person.ups[0].t > self.config.upright_window_s:
                    person.ups.popleft()
            findings += self._decide(body, person, obs)
            body.watched = person.watched
            if not person.watched and obs.t - body.seen_t > self.bodies.forget_s:
                self._forget(body)
        return findings

    def finish(self, obs: Observation) -> list[Finding]:
        """End every open episode."""
        findings = []
        for key, person in self.people.items():
            for type_ in (EventType.FALL, EventType.PERSON_DOWN):
                if self._episode(person, type_):
                    findings.append(self._end(key, person, type_, obs, "source_ended"))
        self.people.clear()
        self.bodies.clear()
        return findings

    def _is_up(self, body: Body | None, sample: Sample) -> bool:
        """Upright (standing, walking, sitting up): a tall box, an upright torso when seen,
        not much shorter than the person's upright height, not classified Fall."""
        if sample.torso is not None:
            # A confidently upright torso: up, even in a wide box (arms out, a high camera).
            if sample.torso >= 35.0 or sample.aspect >= 1.2:
                return False
        elif sample.aspect >= 0.8:
            return False
        person = self.people.get(body.key) if body is not None else None
        if person is None:
            return True
        ref = person.candidate.ref if person.candidate is not None else person.ref
        if ref is None:
            return True
        shrunk = sample.height < SHRUNK * ref.height and not sample.cut_height
        if shrunk and not _walked_away(sample, ref):
            return False  # much shorter than when up: slumped, kneeling, crouching
        return person.candidate is None or posture(sample, ref) <= UP

    def _update(self, body: Body, person: _Person) -> None:
        sample = body.last
        assert sample is not None
        config = self.config
        up = person.up_now = self._is_up(body, sample)
        person.left_view = False
        while person.ups and sample.t - person.ups[0].t > config.upright_window_s:
            person.ups.popleft()
        if up:
            person.ups.append(sample)
            person.ref = Reference.of(max(person.ups, key=lambda s: s.height))
            person.up_since = person.up_since if person.up_since is not None else sample.t
            person.lying = None
            if person.candidate is not None:
                person.candidate.ups += 1
                if person.candidate.ups >= 2:
                    person.candidate = None
            return
        person.up_since = None
        found = None if person.candidate else self._reference(body, person)
        if found is not None:
            person.ref = found[0]
        ref = person.candidate.ref if person.candidate else person.ref
        score = posture(sample, ref)
        if score >= LYING and not person.in_bed and person.lying is None:
            person.lying = _Lying(sample.t)
        elif score < UP:
            person.lying = None
        if person.lying is not None:
            person.lying.add(score)
        candidate = person.candidate
        if candidate is not None:
            candidate.ups = 0
            drop = transition(sample, candidate.ref, candidate.last_up, config.min_drop)
            candidate.drop = max(candidate.drop, drop)
            candidate.add(score, sample.t)
            margin = fall_margin(sample)
            if margin is not None:
                candidate.margins.append(margin)
        elif person.fall is None and not person.in_bed and found is not None:
            ref, last_up = found
            drop = transition(sample, ref, last_up, config.min_drop)
            if drop + score > OPEN:
                person.candidate = _Candidate(sample.t, ref, last_up, drop)
                person.candidate.add(score, sample.t)

    def _reference(self, body: Body, person: _Person) -> tuple[Reference, Sample] | None:
        """How the person looked up, from the tallest upright sample of the last
        `upright_window_s`, and the last upright sample; without one, a recent sample at
        FALL_FROM_LYING of a body length and its own height higher than now (a fall from
        lying, off a bed)."""
        if person.ups:
            return Reference.of(max(person.ups, key=lambda s: s.height)), person.ups[-1]
        last = body.last
        assert last is not None
        length = max(last.height, last.width)
        for sample in body.samples:
            recent = last.t - sample.t <= self.config.upright_window_s / 2
            drop = last.centre_y - sample.centre_y
            if recent and drop >= max(FALL_FROM_LYING * length, sample.height):
                return Reference.of(sample, upright=False), sample
        return None

    def _decide(self, body: Body, person: _Person, obs: Observation) -> list[Finding]:
        config = self.config
        findings: list[Finding] = []
        if self._gone(body, person, obs) or self._recovered(person, obs):
            reason = "up" if person.up_since is not None else "gone"
            for type_ in (EventType.FALL, EventType.PERSON_DOWN):
                if self._episode(person, type_):
                    findings.append(self._end(body.key, person, type_, obs, reason))
            person.candidate, person.lying = None, None
            return findings
        candidate = person.candidate
        if candidate is not None and person.fall is None:
            held = obs.t - candidate.t
            last = body.last
            at_rest = last is not None and last.still and obs.t - body.seen_t < 1.0
            confident = candidate.evidence >= CONFIRM and candidate.downs >= 2
            if confident and at_rest and held >= config.confirm_s - CONFIRM_SLACK_S:
                findings.append(self._start_fall(body, person, obs))
            elif candidate.evidence <= CANCEL or held > CANDIDATE_MAX_S:
                person.candidate = None
        if (
            config.person_down
            and person.down is None
            and person.lying is not None
            and not person.in_bed
            and obs.t - person.lying.since >= config.down_alert_s
            and person.lying.mean_posture >= LYING
        ):
            findings.append(self._start_down(body, person, obs))
        for type_ in (EventType.FALL, EventType.PERSON_DOWN):
            episode = self._episode(person, type_)
            if episode is not None:
                findings += self._follow(body, person, type_, episode, obs)
        return findings

    def _gone(self, body: Body, person: _Person, obs: Observation) -> bool:
        """Unseen for `recover_s` with movement where they were, or for HOLD_MAX_S."""
        unseen = obs.t - body.seen_t
        if not person.busy:
            return False
        return (unseen >= self.config.recover_s and body.moved_since_seen) or unseen >= HOLD_MAX_S

    def _recovered(self, person: _Person, obs: Observation) -> bool:
        up = person.up_since
        return up is not None and obs.t - up >= self.config.recover_s and person.busy

    def _start_fall(self, body: Body, person: _Person, obs: Observation) -> Finding:
        candidate = person.candidate
        assert candidate is not None
        confidence = min(0.99, 1.0 / (1.0 + np.exp(-(candidate.evidence - CONFIRM / 2) / 2)))
        episode = self._open(body, obs, candidate.t, "fall", float(confidence))
        drop = (body.box[1] + body.box[3]) / 2 - candidate.ref.centre_y
        episode.attributes = {"drop": round(float(drop / max(candidate.ref.height, 1.0)), 2)}
        if candidate.margins:
            episode.attributes["fall_score"] = round(float(np.median(candidate.margins)), 3)
        person.fall, person.candidate = episode, None
        return episode.finding(
            obs,
            EventType.FALL,
            Phase.START,
            track_id=body.key,
            attributes={"down_s": round(obs.t - episode.started_t, 1)},
        )

    def _start_down(self, body: Body, person: _Person, obs: Observation) -> Finding:
        assert person.lying is not None
        episode = self._open(body, obs, person.lying.since, "down", 0.8)
        person.down = episode
        return episode.finding(
            obs,
            EventType.PERSON_DOWN,
            Phase.START,
            track_id=body.key,
            attributes={"down_s": round(obs.t - episode.started_t, 1)},
        )

    @staticmethod
    def _open(body: Body, obs: Observation, since: float, name: str, confidence: float) -> Episode:
        started = obs.at - timedelta(seconds=max(0.0, obs.t - since))
        episode = Episode(f"{name}:{body.key}", started, since, obs.t)
        episode.offer(obs, confidence, body.box)
        return episode

    def _follow(
        self, body: Body, person: _Person, type_: EventType, episode: Episode, obs: Observation
    ) -> list[Finding]:
        config = self.config
        down_s = round(obs.t - episode.started_t, 1)
        if down_s >= config.long_lie_s and not episode.attributes.get("long_lie"):
            episode.attributes["long_lie"] = True
            if type_ == EventType.FALL:
                episode.attributes["severity"] = "high"
        elif obs.t - episode.last_event_t < config.update_s:
            return []
        return [
            episode.finding(
                obs, type_, Phase.UPDATE, track_id=body.key, attributes={"down_s": down_s}
            )
        ]

    @staticmethod
    def _episode(person: _Person, type_: EventType) -> Episode | None:
        return person.fall if type_ == EventType.FALL else person.down

    def _end(
        self, key: int, person: _Person, type_: EventType, obs: Observation, reason: str
    ) -> Finding:
        episode = self._episode(person, type_)
        assert episode is not None
        if type_ == EventType.FALL:
            person.fall = None
        else:
            person.down = None
        return episode.finding(
            obs,
            type_,
            Phase.END,
            track_id=key,
            attributes={"down_s": round(obs.t - episode.started_t, 1), "end_reason": reason},
        )

    def _forget(self, body: Body) -> None:
        self.bodies.forget(body)
        self.people.pop(body.key, None)

    @staticmethod
    def _in_bed(obs: Observation, box: np.ndarray) -> bool:
        """Whether the centre of `box` is inside a zone tagged as a place to lie down."""
        centre = (float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2)
        return any(
            cv2.pointPolygonTest(zone.polygon.astype(np.float32), centre, False) >= 0
            for zone in obs.zones.tagged(set(REST_TAGS))
        )
