"""Loitering: a person dwells inside a zone longer than `loitering_s` (time inside only)."""

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from edge.analysers.base import Analyser, Episode, Finding, Observation
from edge.config.analysers import LoiteringConfig
from shouwang.contracts import EventType, Phase


@dataclass(slots=True)
class _Dwell:
    """Time one track has spent inside one zone."""

    inside_t: float
    seen_t: float
    dwell_s: float = 0.0
    box: np.ndarray | None = None
    episode: Episode | None = None


class LoiteringAnalyser(Analyser):
    """Per (track, zone): dwell accumulates while inside; gaps longer than `grace_s` reset it."""

    def __init__(self, config: LoiteringConfig) -> None:
        self.config = config
        self.dwells: dict[tuple[int, str], _Dwell] = {}

    def observe(self, obs: Observation) -> list[Finding]:
        """Accumulate dwell; start, update or end loitering episodes."""
        if not self.config.enabled:
            return []
        findings: list[Finding] = []
        if obs.detected and obs.people.tracker_id is not None:
            for row, track_id in enumerate(obs.people.tracker_id):
                for zone in obs.zones_of(row):
                    if obs.zones.by_name(zone).loitering:
                        findings += self._inside(obs, int(track_id), zone, row)
        for key, dwell in list(self.dwells.items()):
            if obs.t - dwell.seen_t > self.config.grace_s:
                if dwell.episode:
                    findings.append(self._finding(obs, key, dwell, Phase.END))
                del self.dwells[key]
        return findings

    def finish(self, obs: Observation) -> list[Finding]:
        """End every open loitering episode."""
        findings = [
            self._finding(obs, key, dwell, Phase.END)
            for key, dwell in self.dwells.items()
            if dwell.episode
        ]
        self.dwells.clear()
        return findings

    def _inside(self, obs: Observation, track_id: int, zone: str, row: int) -> list[Finding]:
        key = (track_id, zone)
        dwell = self.dwells.get(key)
        if dwell is None:
            dwell = self.dwells[key] = _Dwell(inside_t=obs.t, seen_t=obs.t)
        dwell.dwell_s += obs.t - dwell.seen_t
        dwell.seen_t = obs.t
        dwell.box = obs.people.xyxy[row]
        confidence = float(obs.people.confidence[row]) if obs.people.confidence is not None else 1
        if dwell.episode is None:
            if dwell.dwell_s < self.config.loitering_s:
                return []
            started = obs.at - timedelta(seconds=dwell.dwell_s)
            dwell.episode = Episode(f"loitering:{track_id}:{zone}", started, obs.t, obs.t)
            dwell.episode.offer(obs, confidence, dwell.box)
            return [self._finding(obs, key, dwell, Phase.START)]
        dwell.episode.offer(obs, confidence, dwell.box)
        if obs.t - dwell.episode.last_event_t >= self.config.update_s:
            return [self._finding(obs, key, dwell, Phase.UPDATE)]
        return []

    def _finding(
        self, obs: Observation, key: tuple[int, str], dwell: _Dwell, phase: Phase
    ) -> Finding:
        assert dwell.episode is not None
        track_id, zone = key
        return dwell.episode.finding(
            obs,
            EventType.LOITERING,
            phase,
            track_id=track_id,
            zone=zone,
            zone_tags=obs.zones.by_name(zone).tags,
            attributes={"dwell_s": round(dwell.dwell_s, 1)},
        )
