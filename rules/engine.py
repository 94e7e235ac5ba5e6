"""One decision per stream entry, in one database transaction; and the timers' work."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
import structlog
from sqlalchemy.orm import Session, sessionmaker

from records.feed import AlertChange, Change
from records.outbox import add_change
from records.timers import escalation_timers
from rules.alerting import attach_snapshot, end_episode, record_match
from rules.coverage import CoverageCache, Subjects, Ward
from rules.definitions import Rule, RuleSet
from rules.escalation import escalate, start_ladder
from rules.holds import Holds
from rules.matching import signal_matches, wards_for
from rules.notifications import queue_jobs
from rules.signals import Signal, SnapshotNote, read_entry
from shouwang.contracts import Phase

log = structlog.get_logger("shouwang.rules")


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
        self.calendar = rules.calendar(timezone)
        self.sessions = sessions
        self.clock = clock
        self.escalations = escalation_timers(client, key_prefix)
        self.holds = Holds(client, key_prefix)
        self.coverage = CoverageCache(coverage_cache_s)

    def now(self) -> datetime:
        """The engine's clock as an aware datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def process(self, entry_id: str, fields: dict[str, str]) -> Outcome:
        """Decide one entry and commit the decision. Raises on entries it cannot read."""
        outcome = Outcome()
        item = read_entry(entry_id, fields)
        if item is None:
            return outcome
        with self.sessions.begin() as session:
            if isinstance(item, SnapshotNote):
                self._snapshot(session, item, outcome)
            elif item.phase is Phase.END:
                self._end(session, item, outcome)
            else:
                self._decide(session, item, fields, outcome)
        return outcome

    def _decide(
        self, session: Session, signal: Signal, fields: dict[str, str], outcome: Outcome
    ) -> None:
        candidates = [r for r in self.enabled if signal_matches(r, signal, self.calendar)]
        if not candidates:
            return
        subjects = self.coverage.get(session, signal)
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
        session.flush()
        if created:
            queue_jobs(session, alert, 0, rule.alert.notify, self.calendar.zone, now)
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
        log.info(
            "alert created" if created else "alert updated",
            alert_id=alert.id,
            rule=rule.id,
            event_key=signal.key,
            count=alert.event_count,
        )

    def _snapshot(self, session: Session, note: SnapshotNote, outcome: Outcome) -> None:
        now = self.now()
        for alert in attach_snapshot(session, note, now):
            session.flush()
            add_change(session, AlertChange.of(alert, Change.SNAPSHOT, now, note.entry_id))
            outcome.snapshots.append(alert.id)

    def _end(self, session: Session, signal: Signal, outcome: Outcome) -> None:
        held = [r.id for r in self.enabled if r.match.hold_s and r.match.kind is signal.kind]
        if held:
            self.holds.end(signal, held)
        now = self.now()
        for alert in end_episode(session, signal, now):
            session.flush()
            add_change(session, AlertChange.of(alert, Change.ENDED, now, signal.entry_id))
            outcome.ended.append(alert.id)

    def fire_holds(self, lease_ms: int, limit: int = 100) -> Outcome:
        """Raise the alerts of held conditions that lasted their `hold_s` without ending."""
        outcome = Outcome()
        for due in self.holds.claim_due(int(self.clock() * 1000), lease_ms, limit):
            rule = self.rules.by_id(due.rule_id)
            item = read_entry(due.entry_id, due.fields)
            if rule is not None and isinstance(item, Signal) and not self.holds.ended_after(item):
                with self.sessions.begin() as session:
                    # Who is covered is asked again: the watch list may have changed meanwhile.
                    subjects = self.coverage.get(session, item)
                    wards = wards_for(rule, subjects)
                    if wards is not None:
                        self._raise(session, rule, item, subjects, wards, outcome)
            self.holds.release(due.member)
        return outcome

    def fire_escalations(self, lease_ms: int, limit: int = 100) -> Outcome:
        """Do the escalation steps that are due."""
        outcome = Outcome()
        for member, _ in self.escalations.claim_due(int(self.clock() * 1000), lease_ms, limit):
            alert_id = int(member)
            with self.sessions.begin() as session:
                fired, next_due = escalate(
                    session, alert_id, self.rules, self.now(), self.calendar.zone
                )
            if fired:
                outcome.escalated.append(alert_id)
            if next_due is None:
                self.escalations.cancel(member)
            else:
                self.escalations.schedule(member, next_due)
        return outcome
