"""Conditions the rules derive from readings over time rather than read off one entry: no
activity (absence rules), a sensor gone silent, a battery low until it is replaced. What entries
mean for them is applied in Redis before the batch's transaction (one round trip each); the
alerts they raise or end are decided in it. Silences that lasted are fired by `Engine`."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis
from sqlalchemy.orm import Session

from rules.absence import AbsenceRules
from rules.coverage import Subjects, Watchers
from rules.definitions import NO_ACTIVITY, Health, Kind, Rule
from rules.sensor_health import BatteryRules, OfflineRules
from rules.signals import Signal
from rules.silences import Note, Silences, SilenceState, at_ms, due_of_episode
from rules.windows import Calendar
from shouwang.contracts import Phase


class SilenceRules(Protocol):
    """Rules whose alert is a silence that lasted (absence, sensor offline)."""

    def due(
        self, rule: Rule, anchor: int, fired: int | None, context: dict[str, Any]
    ) -> int | None: ...
    def waits(self, state: SilenceState) -> bool: ...
    def start(self, rule: Rule, episode: str, state: SilenceState, due: int) -> Signal: ...
    def subjects(
        self, session: Session, watchers: Watchers, state: SilenceState
    ) -> Subjects | None: ...


@dataclass(slots=True)
class DerivedWork:
    """What a batch's entries did to the derived conditions: alerts to raise (a battery went
    low: the rule, the derived entry, the reading), and episodes to end (activity after a
    silence fired, a battery replaced)."""

    starts: list[tuple[Rule, Signal, Signal]] = field(default_factory=list)
    ends: list[Signal] = field(default_factory=list)


def end_of(episode: str, rule: Rule, activity: Signal | None, at: int) -> Signal:
    """The entry that ends a silence's episode: the activity that broke it, recorded no earlier
    than the silence fired (a reading that arrived late still ends the alert it raised)."""
    when = at_ms(max(at, due_of_episode(episode)))
    kind, type_ = (
        (Kind.ABSENCE, NO_ACTIVITY)
        if rule.match.kind is Kind.ABSENCE
        else (Kind.HEALTH, Health.SENSOR_OFFLINE.value)
    )
    return Signal(
        kind=kind,
        key=f"{episode}|end",
        entry_id=activity.entry_id if activity else "",
        site=activity.site if activity else "",
        source=activity.source if activity else "",
        source_name=activity.source_name if activity else None,
        type=type_,
        phase=Phase.END,
        episode_key=episode,
        observed_at=when,
        started_at=when,
        attributes={"ended_by": activity.type} if activity else {},
    )


class Derived:
    """The derived conditions of a rule set."""

    def __init__(
        self, rules: Sequence[Rule], calendar: Calendar, client: redis.Redis, prefix: str
    ) -> None:
        def of(kind: Kind, type_: str | None = None) -> tuple[Rule, ...]:
            return tuple(
                r
                for r in rules
                if r.match.kind is kind and (type_ is None or type_ in r.match.types)
            )

        self.absence = AbsenceRules(of(Kind.ABSENCE), calendar)
        self.offline = OfflineRules(of(Kind.HEALTH, Health.SENSOR_OFFLINE.value))
        self.battery = BatteryRules(of(Kind.HEALTH, Health.BATTERY_LOW.value), client, prefix)
        self.silences = Silences(client, prefix)
        self.by_id = {rule.id: rule for rule in (*self.absence.rules, *self.offline.rules)}

    def listens(self, signal: Signal) -> bool:
        """Whether a derived rule listens to this entry."""
        return (
            self.absence.listens(signal)
            or self.offline.listens(signal)
            or self.battery.listens(signal)
        )

    def needs_subjects(self, signal: Signal) -> bool:
        """Whether noting the entry needs to know whom its source covers (absence rules do; a
        sensor's health does not, and a low battery's alert looks it up when it is raised)."""
        return self.absence.listens(signal)

    def kind_of(self, rule: Rule) -> SilenceRules:
        """The silence rules a rule belongs to."""
        return self.absence if rule.match.kind is Kind.ABSENCE else self.offline

    def note(self, entries: Sequence[tuple[Signal, Subjects | None]]) -> DerivedWork:
        """Apply a batch's entries to the silences and battery episodes (a round trip each);
        `subjects` must be given for the entries that `needs_subjects`."""
        noted: list[tuple[Rule, Note, Signal]] = []
        for signal, subjects in entries:
            if subjects is not None and self.absence.listens(signal):
                noted += [(r, n, signal) for r, n in self.absence.notes(signal, subjects)]
            if self.offline.listens(signal):
                noted += [(r, n, signal) for r, n in self.offline.notes(signal)]
        work = DerivedWork()
        ended = self.silences.note([note for _, note, _ in noted])
        for (rule, note, signal), episodes in zip(noted, ended, strict=True):
            work.ends += [end_of(episode, rule, signal, note.at_ms) for episode in episodes]
        for change in self.battery.changes([signal for signal, _ in entries]):
            if change.signal.phase is Phase.START:
                work.starts.append((change.rule, change.signal, change.reading))
            else:
                work.ends.append(change.signal)
        return work
