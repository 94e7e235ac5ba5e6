"""Unattended child: a child in a hazard zone with no adult near for `unattended_s`."""

from dataclasses import dataclass

import numpy as np

from edge.analysers.age import AgeEstimator, AgeGroup
from edge.analysers.base import Analyser, Episode, Finding, Observation
from edge.config.analysers import UnattendedConfig
from shouwang.contracts import EventType, Phase


@dataclass(slots=True)
class _Alone:
    """How long one child has been alone in one hazard zone."""

    since_t: float
    seen_t: float
    box: np.ndarray
    episode: Episode | None = None


class UnattendedChildAnalyser(Analyser):
    """Children come from the age estimator; company is any other person who is not a
    child, with feet within `companion_radius` child heights."""

    def __init__(self, config: UnattendedConfig, estimator: AgeEstimator) -> None:
        self.config = config
        self.estimator = estimator
        self.alone: dict[tuple[int, str], _Alone] = {}
        self._groups: dict[int, AgeGroup] = {}

    def observe(self, obs: Observation) -> list[Finding]:
        """Time children alone in hazard zones; start or end episodes."""
        if not self.config.enabled:
            return []
        findings: list[Finding] = []
        if obs.detected and obs.people.tracker_id is not None:
            hazards = {z.name for z in obs.zones.tagged(self.config.hazard_tags)}
            groups = self._age_groups(obs)
            feet = np.column_stack(
                [(obs.people.xyxy[:, 0] + obs.people.xyxy[:, 2]) / 2, obs.people.xyxy[:, 3]]
            )
            for row, track_id in enumerate(obs.people.tracker_id):
                if groups[row] != AgeGroup.CHILD:
                    continue
                box = obs.people.xyxy[row]
                reach = self.config.companion_radius * float(box[3] - box[1])
                distance = np.linalg.norm(feet - feet[row], axis=1)
                company = (distance <= reach) & (groups != AgeGroup.CHILD)
                if company.any():
                    continue
                for zone in set(obs.zones_of(row)) & hazards:
                    findings += self._alone(obs, int(track_id), zone, box)
        for key, alone in list(self.alone.items()):
            if obs.t - alone.seen_t > self.config.grace_s:
                if alone.episode:
                    findings.append(self._finding(obs, key, alone, Phase.END))
                del self.alone[key]
        return findings

    def finish(self, obs: Observation) -> list[Finding]:
        """End every open episode."""
        findings = [
            self._finding(obs, key, a, Phase.END) for key, a in self.alone.items() if a.episode
        ]
        self.alone.clear()
        return findings

    def _age_groups(self, obs: Observation) -> np.ndarray:
        """Age group per person; a track once seen as a child or adult keeps that group."""
        groups = []
        ids = obs.people.tracker_id if obs.people.tracker_id is not None else np.empty(0, int)
        for row, track_id in enumerate(ids):
            group = self.estimator.estimate(obs.people.xyxy[row], (obs.width, obs.height))
            if group == AgeGroup.UNKNOWN:
                group = self._groups.get(int(track_id), AgeGroup.UNKNOWN)
            self._groups[int(track_id)] = group
            groups.append(group)
        return np.array(groups, dtype=object)

    def _alone(self, obs: Observation, track_id: int, zone: str, box: np.ndarray) -> list[Finding]:
        key = (track_id, zone)
        alone = self.alone.setdefault(key, _Alone(since_t=obs.t, seen_t=obs.t, box=box))
        alone.seen_t, alone.box = obs.t, box
        if alone.episode is not None or obs.t - alone.since_t < self.config.unattended_s:
            return []
        alone.episode = Episode(f"unattended:{track_id}:{zone}", obs.at, obs.t, obs.t)
        alone.episode.offer(obs, 0.6, box)
        return [self._finding(obs, key, alone, Phase.START)]

    def _finding(
        self, obs: Observation, key: tuple[int, str], alone: _Alone, phase: Phase
    ) -> Finding:
        assert alone.episode is not None
        track_id, zone = key
        return alone.episode.finding(
            obs,
            EventType.UNATTENDED_CHILD,
            phase,
            track_id=track_id,
            zone=zone,
            zone_tags=obs.zones.by_name(zone).tags,
            attributes={
                "age_group": AgeGroup.CHILD.value,
                "alone_s": round(alone.seen_t - alone.since_t, 1),
            },
        )
