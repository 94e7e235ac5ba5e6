"""Inactivity: nobody seen and nothing moving in a `home` zone for `inactive_s`, within the
configured hours (an elder living alone who has not been up all morning). An episode's end
says why it ended (`end_reason`): someone or something moved (`activity`), the hours ended
(`hours`), or the analyser stopped (`stopped`); only the first means someone was seen."""

from dataclasses import dataclass, field
from datetime import time

import numpy as np

from edge.analysers.base import Analyser, Episode, Finding, Observation
from edge.config.analysers import InactivityConfig
from shouwang.contracts import EventType, Phase

MOTION_PIXELS = 4
"""Changed pixels of the motion gate's small copy inside a zone that count as activity."""


@dataclass(slots=True)
class _Quiet:
    """Since when one zone has been quiet."""

    since_t: float
    mask: np.ndarray | None = None
    episode: Episode | None = field(default=None)


def within(now: time, start: time, end: time) -> bool:
    """Whether `now` lies in [start, end), the window may wrap past midnight."""
    return start <= now < end if start <= end else now >= start or now < end


class InactivityAnalyser(Analyser):
    """One timer per zone tagged `tag`; any person in it, or motion in it, resets the timer."""

    def __init__(self, config: InactivityConfig) -> None:
        self.config = config
        self.quiet: dict[str, _Quiet] = {}

    def observe(self, obs: Observation) -> list[Finding]:
        """Reset timers on activity; start an episode when a zone stays quiet too long."""
        if not self.config.enabled:
            return []
        findings: list[Finding] = []
        in_hours = within(obs.at.timetz().replace(tzinfo=None), self.config.start, self.config.end)
        for zone in obs.zones.tagged([self.config.tag]):
            quiet = self.quiet.setdefault(zone.name, _Quiet(since_t=obs.t))
            if not in_hours or self._active(obs, zone.name, quiet):
                if quiet.episode:
                    why = "activity" if in_hours else "hours"
                    findings.append(self._finding(obs, zone.name, quiet, Phase.END, why))
                quiet.since_t = obs.t
                continue
            if quiet.episode is None and obs.t - quiet.since_t >= self.config.inactive_s:
                quiet.episode = Episode(f"inactivity:{zone.name}", obs.at, obs.t, obs.t)
                quiet.episode.offer(obs, 0.7, None)
                findings.append(self._finding(obs, zone.name, quiet, Phase.START))
        return findings

    def finish(self, obs: Observation) -> list[Finding]:
        """End every open episode."""
        findings = [
            self._finding(obs, name, q, Phase.END, "stopped")
            for name, q in self.quiet.items()
            if q.episode
        ]
        self.quiet.clear()
        return findings

    def _active(self, obs: Observation, zone: str, quiet: _Quiet) -> bool:
        if obs.detected and obs.in_zone.get(zone, np.zeros(0, bool)).any():
            return True
        if obs.motion_mask is None:
            return False
        height, width = obs.motion_mask.shape
        if quiet.mask is None or quiet.mask.shape != obs.motion_mask.shape:
            quiet.mask = obs.zones.by_name(zone).mask(width, height)
        return int(np.count_nonzero(obs.motion_mask & quiet.mask)) >= MOTION_PIXELS

    def _finding(
        self, obs: Observation, zone: str, quiet: _Quiet, phase: Phase, end_reason: str = ""
    ) -> Finding:
        assert quiet.episode is not None
        episode = quiet.episode
        attributes: dict[str, float | str] = {"inactive_s": round(obs.t - quiet.since_t, 1)}
        if phase == Phase.END:
            quiet.episode = None
            attributes["end_reason"] = end_reason
        return episode.finding(
            obs,
            EventType.INACTIVITY,
            phase,
            zone=zone,
            zone_tags=obs.zones.by_name(zone).tags,
            attributes=attributes,
        )
