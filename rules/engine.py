"""Deciding stream entries (in the caller's transaction) and doing the timers' work."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
import structlog
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from records.feed import AlertChange, Change
from records.outbox import add_change
from records.timers import escalation_timers
from rules.alerting import attach_snapshot, end_episode, record_match
from rules.cache import TtlCache
from rules.coverage import Subjects, Ward, lookup
from rules.definitions import KIND_TYPES, Kind, Rule, RuleSet
from rules.escalation import escalate, start_ladder
from rules.holds import DueHold, Holds
from rules.matching import signal_matches, wards_for
from rules.notifications import queue_jobs
from rules.recipients import Directory
from rules.signals import Signal, SnapshotNote, read_entry
from shouwang.contracts import Phase

log = structlog.get_logger("shouwang.rules")

TRANSIENT = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)
"""Errors of the database or Redis, not of the entry or timer: retried without counting."""


@dataclass
class Outcome:
    """What one entry (or timer) did, by alert id."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    snapshots: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    """Rules holding the entry until its condition has lasted long enough."""


def rule_index(rules: list[Rule]) -> dict[tuple[Kind, str], list[Rule]]:
    """Rules by the (kind, type) of entry they can match, in rule-file order."""
    index: dict[tuple[Kind, str], list[Rule]] = {}
    for kind, types in KIND_TYPES.items():
        for type_ in types:
            index[(kind, type_)] = [
                r
                for r in rules
                if r.match.kind is kind and (not r.match.types or type_ in r.match.types)
            ]
    return index


class Engine:
    """Applies a rule set to entries and due timers, writing records and outbox entries."""

    def __init__(
        self,
        rules: RuleSet,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        *,
        timezone: str = "Asia/Shanghai",
        key_prefix: str,
        coverage_cache_s: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules = rules
        self.enabled = rules.enabled()
        self.index = rule_index(self.enabled)
        self.calendar = rules.calendar(timezone)
        self.sessions = sessions
        self.clock = clock
        self.escalations = escalation_timers(client, key_prefix)
        self.holds = Holds(client, key_prefix)
        self.coverage: TtlCache[tuple[str, str, str, str | None], Subjects] = TtlCache(
            coverage_cache_s
        )
        self.directory = Directory(coverage_cache_s)

    def now(self) -> datetime:
        """The engine's clock as an aware datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def _subjects(self, session: Session, signal: Signal) -> Subjects:
        key = (signal.kind.value, signal.site, signal.source, signal.zone)
        return self.coverage.get(key, lambda: lookup(session, signal))

    def process(self, entry_id: str, fields: dict[str, str]) -> Outcome:
        """Decide one entry in its own transaction. Raises on entries it cannot read."""
        with self.sessions.begin() as session:
            return self.decide(session, entry_id, fields)

    def decide(self, session: Session, entry_id: str, fields: dict[str, str]) -> Outcome:
        """Decide one entry in the caller's transaction (which connects to the database only
        if needed: most entries match no rule). Raises on entries it cannot read."""
        outcome = Outcome()
        item = read_entry(entry_id, fields)
        if item is None:
            return outcome
        if isinstance(item, SnapshotNote):
            self._snapshot(session, item, outcome)
        elif item.phase is Phase.END:
            self._end(session, item, outcome)
        else:
            candidates = [
                rule
                for rule in self.index.get((item.kind, item.type), ())
                if signal_matches(rule, item, self.calendar)
            ]
            if candidates:
                self._decide(session, item, fields, candidates, outcome)
        return outcome

    def _decide(
        self,
        session: Session,
        signal: Signal,
        fields: dict[str, str],
        candidates: list[Rule],
        outcome: Outcome,
    ) -> None:
        subjects = self._subjects(session, signal)
        for rule in candidates:
            wards = wards_for(rule, subjects)
            if wards is None:
                continue
            if rule.match.hold_s:
                if self.holds.hold(rule.id, signal, fields, rule.match.hold_s):
                    outcome.held.append(rule.id)
                continue
            self._raise(session, rule, signal, subjects, wards, outcome)

    def _raise(
        self,
        session: Session,
        rule: Rule,
        signal: Signal,
        subjects: Subjects,
        wards: list[Ward],
        outcome: Outcome,
    ) -> None:
        now = self.now()
        result = record_match(session, rule, signal, subjects, wards, now)
        if result is None:
            return
        alert, created = result
        if created:
            queue_jobs(
                session, self.directory, alert, 0, rule.alert.notify, self.calendar.zone, now
            )
            start_ladder(self.escalations, alert, rule)
            outcome.created.append(alert.id)
        else:
            outcome.updated.append(alert.id)
        add_change(
            session,
            AlertChange.of(
                alert, Change.CREATED if created else Change.UPDATED, now, signal.entry_id
            ),
        )
        (log.info if created else log.debug)(
            "alert created" if created else "alert updated",
            alert_id=alert.id,
            rule=rule.id,
            event_key=signal.key,
            count=alert.event_count,
        )

    def _snapshot(self, session: Session, note: SnapshotNote, outcome: Outcome) -> None:
        now = self.now()
        for alert in attach_snapshot(session, note, now):
            add_change(session, AlertChange.of(alert, Change.SNAPSHOT, now, note.entry_id))
            outcome.snapshots.append(alert.id)

    def _end(self, session: Session, signal: Signal, outcome: Outcome) -> None:
        held = [
            rule.id
            for rule in self.enabled
            if rule.match.hold_s
            and rule.match.kind is signal.kind
            and (not rule.match.types or signal.condition in rule.match.types)
        ]
        if held:
            self.holds.end(signal, held)
        now = self.now()
        for alert in end_episode(session, signal, now):
            add_change(session, AlertChange.of(alert, Change.ENDED, now, signal.entry_id))
            outcome.ended.append(alert.id)

    def fire_holds(self, lease_ms: int, limit: int = 100) -> Outcome:
        """Raise the alerts of held conditions that lasted their `hold_s` without ending."""
        outcome = Outcome()
        for due in self.holds.claim_due(int(self.clock() * 1000), lease_ms, limit):
            try:
                self._fire_hold(due, outcome)
            except TRANSIENT:
                raise
            except Exception:  # keep working; the timer comes back when its lease ends
                log.exception("held condition failed", member=due.member, entry_id=due.entry_id)
                continue
            self.holds.release(due.member)
        return outcome

    def _fire_hold(self, due: DueHold, outcome: Outcome) -> None:
        rule = self.rules.by_id(due.rule_id)
        item = read_entry(due.entry_id, due.fields)
        if rule is None or not isinstance(item, Signal) or self.holds.ended_after(item):
            return
        with self.sessions.begin() as session:
            # Who is covered is asked again: the watch list may have changed meanwhile.
            subjects = self._subjects(session, item)
            wards = wards_for(rule, subjects)
            if wards is not None:
                self._raise(session, rule, item, subjects, wards, outcome)

    def fire_escalations(self, lease_ms: int, limit: int = 100) -> Outcome:
        """Do the escalation steps that are due."""
        outcome = Outcome()
        for member, _ in self.escalations.claim_due(int(self.clock() * 1000), lease_ms, limit):
            alert_id = int(member)
            try:
                with self.sessions.begin() as session:
                    fired, next_due = escalate(
                        session,
                        self.directory,
                        alert_id,
                        self.rules,
                        self.now(),
                        self.calendar.zone,
                    )
            except TRANSIENT:
                raise
            except Exception:  # keep working; the timer comes back when its lease ends
                log.exception("escalation failed", alert_id=alert_id)
                continue
            if fired:
                outcome.escalated.append(alert_id)
            if next_due is None:
                self.escalations.cancel(member)
            else:
                self.escalations.schedule(member, next_due)
        return outcome
