"""Fall episodes as the edge agent emits them (its own `EventFactory`), at simulated times.

The clock is the test's: episodes happen `spacing_s` apart in simulated time however fast the
test creates them, so ten minutes of a village's events take a second or two of real time.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from edge.analysers.base import Finding
from edge.events import EventFactory
from shouwang.contracts import BehaviourEvent, EventType, Phase

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
"""10:00 in Shanghai."""


@dataclass
class Timeline:
    """Makes fall episodes (start, `updates` updates, end) on the cameras of one edge box,
    one event every `spacing_s` simulated seconds; remembers everything it made, in order."""

    site: str
    edge: str
    cameras: int = 4
    spacing_s: float = 1.0
    now: datetime = T0
    events: list[BehaviourEvent] = field(default_factory=list)
    _factories: dict[str, EventFactory] = field(default_factory=dict)
    _episodes: int = 0

    def camera(self, index: int) -> str:
        return f"cam-{index % self.cameras:03d}"

    def episode(self, *, updates: int = 1, camera: str | None = None) -> list[BehaviourEvent]:
        """One whole episode on the next camera (round robin) or on `camera`."""
        number = self._episodes
        self._episodes += 1
        camera = camera or self.camera(number)
        factory = self._factories.get(camera)
        if factory is None:
            factory = self._factories[camera] = EventFactory(self.site, self.edge, camera, None)
        started = self.now
        made: list[BehaviourEvent] = []
        for phase in [Phase.START, *[Phase.UPDATE] * updates, Phase.END]:
            finding = Finding(
                type=EventType.FALL,
                phase=phase,
                key=f"fall-{number}",
                started_at=started,
                observed_at=self.now,
                index=number,
                confidence=0.9,
                track_id=number,
                attributes={"down_s": round((self.now - started).total_seconds(), 1)},
            )
            made.append(factory.build(finding).event)
            self.now += timedelta(seconds=self.spacing_s)
        self.events += made
        return made

    def episodes(self, count: int, *, updates: int = 1) -> list[BehaviourEvent]:
        """`count` episodes, one after the other."""
        return [event for _ in range(count) for event in self.episode(updates=updates)]

    @property
    def episode_ids(self) -> set[str]:
        return {event.episode_id for event in self.events}
