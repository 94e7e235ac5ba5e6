"""Deciding stream entries (a batch in the caller's transaction) and doing the timers' work."""

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import redis
import structlog
from sqlalchemy.orm import Session, sessionmaker

from records.db import TRANSIENT
from records.feed import Change
from records.timers import TimerSet, escalation_timers, lifecycle_timers
from rules.alerting import Match, attach_clip, attach_snapshot, end_episode, prepare, record_match
from rules.book import AlertBook
from rules.clears import clear_sensor_alerts, is_clear
from rules.coverage import Source, Subjects, Watchers
from rules.definitions import KIND_TYPES, Kind, Rule, RuleSet
from rules.derived import Derived, end_of
from rules.ends import EarlyEnds
from rules.escalation import escalate, step_due_ms
from rules.holds import DueHold, Holds
from rules.matching import signal_matches, wards_for
from rules.notifications import Notice
from rules.recipients import Directory
from rules.response import lifecycle_due_ms, respond
from rules.signals import ClipNote, Signal, SnapshotNote, read_entry
from rules.silences import Note, SilenceState, episode_of
from shouwang.contracts import Phase

log = structlog.get_logger("shouwang.rules")
REOPENED_LEAD = "情况加重，告警已重新打开"
"""What a reopened alert's notification says first."""


@dataclass
class Outcome:
    """What a batch of entries (or a round of timers) did, by alert id."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    snapshots: list[int] = field(default_factory=list)
    clips: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    responded: list[int] = field(default_factory=list)
    """Alerts whose lifecycle timer sent notices (a family response…)."""
    held: list[str] = field(default_factory=list)
    """Rules holding an entry until its condition has lasted long enough."""
    outputs: list[int] = field(default_factory=list)
    """Outbox entries written, to publish once committed."""
    episodes: set[str] = field(default_factory=set)
    """Episodes whose alerts the entries raised or joined (or found recorded or closed), and
    whose end did not follow in the batch: once committed, ends decided before them are
    recorded (`Engine.early_ends`)."""


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


Entry = tuple[str, dict[str, str]]
"""A stream entry: its id and fields."""
AlertStep = Callable[[AlertBook, int, RuleSet, ZoneInfo], tuple[bool, int | None]]
"""What a timer does for an alert: whether it notified, and when it is next due (ms)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What the entry alone (and who its source watches) decides: the rules it meets."""

    item: Signal | SnapshotNote | ClipNote | None
    fields: dict[str, str]
    matches: list[Match] = field(default_factory=list)
    awaited: bool = False
    """An end of an episode that a rule may still raise an alert for: remembered."""
    subjects: Subjects | None = None
    """Who the entry's source watches, if a rule needed to know."""


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
        end_wait_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rules = rules
        self.enabled = rules.enabled()
        self.index = rule_index(self.enabled)
        self.calendar = rules.calendar(timezone)
        self.sessions = sessions
        self.clock = clock
        self.escalations = escalation_timers(client, key_prefix)
        self.lifecycle = lifecycle_timers(client, key_prefix)
        self.holds = Holds(client, key_prefix)
        self.ends = EarlyEnds(client, key_prefix, end_wait_s)
        self.watchers = Watchers(coverage_cache_s)
        self.directory = Directory(coverage_cache_s)
        self.derived = Derived(self.enabled, self.calendar, client, key_prefix)

    def now(self) -> datetime:
        """The engine's clock as an aware datetime."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def _book(self, session: Session) -> AlertBook:
        return AlertBook(session, self.directory, self.now())

    def process(self, entry_id: str, fields: dict[str, str]) -> Outcome:
        """Decide one entry in its own transaction. Raises on entries it cannot read."""
        with self.sessions.begin() as session:
            return self.decide(session, [(entry_id, fields)])

    def decide(self, session: Session, entries: Sequence[Entry]) -> Outcome:
        """Decide entries, in order, in the caller's transaction (which connects to the
        database only if needed: most entries match no rule). Raises on an entry it cannot
        read."""
        plans = self._plans(session, entries)
        # Before any search for an end's alerts (see rules/ends.py).
        self.ends.remember(
            (plan.item, plan.fields)
            for plan in plans
            if plan.awaited and isinstance(plan.item, Signal)
        )
        derived = self.derived.note(
            [
                (plan.item, plan.subjects)
                for plan in plans
                if isinstance(plan.item, Signal) and self.derived.listens(plan.item)
            ]
        )
        covered = self._subjects(session, [reading for _, _, reading in derived.starts])
        starts = [
            Match.of(rule, signal, subjects, wards)
            for rule, signal, reading in derived.starts
            if (wards := wards_for(rule, subjects := covered[Source.of(reading)])) is not None
        ]
        book = self._book(session)
        matches = [m for plan in plans for m in plan.matches if not m.rule.match.hold_s]
        prepare(book, matches + starts)
        outcome = Outcome()
        for plan in plans:
            self._apply(book, plan, outcome)
        for match in starts:
            self._raise(book, match, outcome)
        for signal in derived.ends:
            self._ended(book, signal, outcome)
        outcome.outputs += book.flush()
        return outcome

    def _plans(self, session: Session, entries: Sequence[Entry]) -> list[Plan]:
        """Read the entries, find the rules each meets, and which ends may still have an
        alert to end (one coverage lookup for all)."""
        items = [read_entry(entry_id, fields) for entry_id, fields in entries]
        candidates = [self._candidates(item) for item in items]
        watched = [
            isinstance(item, Signal) and (bool(rules) or self.derived.needs_subjects(item))
            for item, rules in zip(items, candidates, strict=True)
        ]
        subjects = self._subjects(
            session,
            [
                item
                for item, wanted in zip(items, watched, strict=True)
                if isinstance(item, Signal) and wanted
            ],
        )
        plans: list[Plan] = []
        for item, rules, wanted, (_, fields) in zip(
            items, candidates, watched, entries, strict=True
        ):
            found = subjects[Source.of(item)] if wanted and isinstance(item, Signal) else None
            if not isinstance(item, Signal) or not rules or found is None:
                plans.append(Plan(item, fields, subjects=found))
                continue
            if item.phase is Phase.END:
                awaited = any(wards_for(rule, found) is not None for rule in rules)
                plans.append(Plan(item, fields, awaited=awaited, subjects=found))
                continue
            plan = Plan(item, fields, subjects=found)
            for rule in rules:
                wards = wards_for(rule, found)
                if wards is not None:
                    plan.matches.append(Match.of(rule, item, found, wards))
            plans.append(plan)
        return plans

    def _candidates(self, item: Signal | SnapshotNote | ClipNote | None) -> list[Rule]:
        """The rules a raising entry meets by what it carries alone, or those whose alerts an
        end may end (its kind and condition); no database."""
        if not isinstance(item, Signal):
            return []
        if item.phase is Phase.END:
            return self.index.get((item.kind, item.condition), [])
        return [
            rule
            for rule in self.index.get((item.kind, item.type), ())
            if signal_matches(rule, item, self.calendar)
        ]

    def _subjects(self, session: Session, signals: Sequence[Signal]) -> dict[Source, Subjects]:
        return self.watchers.subjects(session, (Source.of(signal) for signal in signals))

    def _apply(self, book: AlertBook, plan: Plan, outcome: Outcome) -> None:
        item = plan.item
        if isinstance(item, SnapshotNote):
            for alert in attach_snapshot(book, item):
                book.announce(alert, Change.SNAPSHOT, item.entry_id)
                outcome.snapshots.append(alert.id)
        elif isinstance(item, ClipNote):
            for alert in attach_clip(book, item):
                book.announce(alert, Change.CLIP, item.entry_id)
                outcome.clips.append(alert.id)
        elif isinstance(item, Signal) and item.phase is Phase.END:
            self._end(book, item, outcome)
            outcome.episodes.discard(item.episode_key)
        elif isinstance(item, Signal) and is_clear(item):
            rule_ids = [rule.id for rule in self.index.get((item.kind, item.type), ())]
            for alert in clear_sensor_alerts(book, item, rule_ids) if rule_ids else []:
                book.announce(alert, Change.ENDED, item.entry_id)
                outcome.ended.append(alert.id)
        for match in plan.matches:
            hold_s = match.rule.match.hold_s
            if not hold_s:
                self._raise(book, match, outcome)
                outcome.episodes.add(match.signal.episode_key)
            elif self.holds.hold(match.rule.id, match.signal, plan.fields, hold_s):
                outcome.held.append(match.rule.id)

    def _raise(self, book: AlertBook, match: Match, outcome: Outcome) -> None:
        result = record_match(book, match)
        if result is None:
            return
        alert, change = result
        rule = match.rule
        created = change is Change.CREATED
        if created:
            book.notify(Notice.of(alert, 0, rule.alert.notify, self.calendar.zone, book.now))
            if (due := step_due_ms(alert, rule, 0)) is not None:
                book.set_timer(self.escalations, alert, due)
            if (due := lifecycle_due_ms(alert, rule, self.rules)) is not None:
                book.set_timer(self.lifecycle, alert, due)
            outcome.created.append(alert.id)
        elif change is Change.REOPENED:
            book.notify(
                Notice.of(
                    alert,
                    0,
                    rule.alert.notify,
                    self.calendar.zone,
                    book.now,
                    stage=f"reopened{alert.version}",
                    lead=REOPENED_LEAD,
                )
            )
            if (due := step_due_ms(alert, rule, 0)) is not None:
                book.set_timer(self.escalations, alert, due)
            if (due := lifecycle_due_ms(alert, rule, self.rules)) is not None:
                book.set_timer(self.lifecycle, alert, due)
            outcome.reopened.append(alert.id)
        else:
            outcome.updated.append(alert.id)
        book.announce(alert, change, match.signal.entry_id)
        (log.info if created else log.debug)(
            "alert created" if created else "alert updated",
            alert_id=alert.id,
            rule=rule.id,
            event_key=match.signal.key,
            count=alert.event_count,
        )

    def _end(self, book: AlertBook, signal: Signal, outcome: Outcome) -> None:
        held = [
            rule.id
            for rule in self.enabled
            if rule.match.hold_s
            and rule.match.kind is signal.kind
            and (not rule.match.types or signal.condition in rule.match.types)
        ]
        if held:
            self.holds.end(signal, held)
        self._ended(book, signal, outcome)

    def _ended(self, book: AlertBook, signal: Signal, outcome: Outcome) -> None:
        for alert in end_episode(book, signal):
            book.announce(alert, Change.ENDED, signal.entry_id)
            outcome.ended.append(alert.id)

    def early_ends(self, episodes: Collection[str]) -> Outcome:
        """Once the transaction that raised or joined alerts of `episodes` has committed,
        decide on them the remembered ends of those episodes, in a transaction of its own (one
        Redis round trip, and no transaction if none was remembered; see rules/ends.py)."""
        outcome = Outcome()
        ends = self.ends.recall(episodes)
        if ends:
            with self.sessions.begin() as session:
                book = self._book(session)
                for signal in ends:
                    self._ended(book, signal, outcome)
                outcome.outputs += book.flush()
        return outcome

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
        if rule is None or not isinstance(item, Signal):
            return
        if not self.holds.ended_after(item):
            with self.sessions.begin() as session:
                # Who is covered is asked again: the watch list may have changed meanwhile.
                subjects = self._subjects(session, [item])[Source.of(item)]
                wards = wards_for(rule, subjects)
                if wards is not None:
                    book = self._book(session)
                    match = Match.of(rule, item, subjects, wards)
                    prepare(book, [match])
                    self._raise(book, match, outcome)
                    outcome.outputs += book.flush()
        # Before the timer is released, also after a firing cut short (see rules/ends.py).
        late = self.early_ends([item.episode_key])
        outcome.ended += late.ended
        outcome.outputs += late.outputs

    def fire_silences(self, lease_ms: int, stream: str, group: str, limit: int = 100) -> Outcome:
        """Raise the alerts of silences that lasted (absence, sensors offline). Not while the
        group is behind on the events stream: the entries waiting there may be the activity
        that breaks the silence."""
        outcome = Outcome()
        now = int(self.clock() * 1000)
        silences = self.derived.silences
        if not silences.has_due(now) or self._behind(stream, group):
            return outcome
        for member, _ in silences.claim_due(now, lease_ms, limit):
            try:
                self._fire_silence(member, now, outcome)
            except TRANSIENT:
                raise
            except Exception:  # keep working; the timer comes back when its lease ends
                log.exception("silence failed", member=member)
        return outcome

    def _behind(self, stream: str, group: str) -> bool:
        """Whether the group has entries it has not read yet (Redis 7 counts them)."""
        try:
            groups = self.derived.silences.client.xinfo_groups(stream)
        except redis.ResponseError:
            return False  # no stream yet
        lag = next((g.get("lag") for g in groups if g.get("name") == group), None)
        return bool(lag)

    def _fire_silence(self, member: str, now: int, outcome: Outcome) -> None:
        silences = self.derived.silences
        state = silences.state(member)
        rule = self.derived.by_id.get(member.split("|", 1)[0])
        if rule is None or state is None:
            silences.forget(member)
            return
        kind = self.derived.kind_of(rule)
        due = kind.due(rule, state.anchor_ms, state.fired_ms, state.context)
        if due is None or due > now:
            silences.fired(member, state.anchor_ms, None, state.fired_ms or 0, due)
            return
        if kind.waits(state):  # a camera sees someone: that is activity, now
            self._activity_now(rule, member, state, now, outcome)
            return
        episode = episode_of(member, due)
        signal = kind.start(rule, episode, state, due)
        with self.sessions.begin() as session:
            subjects = kind.subjects(session, self.watchers, state)
            wards = wards_for(rule, subjects) if subjects is not None else None
            if subjects is not None and wards is not None:
                book = self._book(session)
                match = Match.of(rule, signal, subjects, wards)
                prepare(book, [match])
                self._raise(book, match, outcome)
                outcome.outputs += book.flush()
        following = kind.due(rule, state.anchor_ms, due, state.context)
        if not silences.fired(member, state.anchor_ms, episode, due, following):
            # An activity came while the alert was raised and found no episode to end.
            moved = silences.state(member)
            self._end_silences(
                [end_of(episode, rule, None, moved.anchor_ms if moved else now)], outcome
            )

    def _activity_now(
        self, rule: Rule, member: str, state: SilenceState, now: int, outcome: Outcome
    ) -> None:
        kind = self.derived.kind_of(rule)
        note = Note(
            member=member,
            at_ms=now,
            key=f"seen:{now}",
            activity=True,
            due_ms=kind.due(rule, now, None, state.context),
            context={},
        )
        (ended,) = self.derived.silences.note([note])
        self._end_silences([end_of(episode, rule, None, now) for episode in ended], outcome)

    def _end_silences(self, ends: list[Signal], outcome: Outcome) -> None:
        if not ends:
            return
        with self.sessions.begin() as session:
            book = self._book(session)
            for signal in ends:
                self._ended(book, signal, outcome)
            outcome.outputs += book.flush()

    def fire_escalations(self, lease_ms: int, limit: int = 100) -> Outcome:
        """Do the escalation steps that are due (`rules.escalation`)."""
        outcome = Outcome()
        outcome.escalated += self._fire(self.escalations, escalate, lease_ms, limit, outcome)
        return outcome

    def fire_lifecycle(self, lease_ms: int, limit: int = 100) -> Outcome:
        """Do what the response circle has due (`rules.response`)."""
        outcome = Outcome()
        outcome.responded += self._fire(self.lifecycle, respond, lease_ms, limit, outcome)
        return outcome

    def _fire(
        self, timers: TimerSet, step: AlertStep, lease_ms: int, limit: int, outcome: Outcome
    ) -> list[int]:
        """Claim the due timers of `timers` and run `step` on their alerts: all in one
        transaction, or, if one fails, each in its own (a failed one comes back when its
        lease ends). Reschedules each at the next time `step` gives, unless the timer was set
        meanwhile (the API made it due). Returns the alerts for which `step` notified."""
        now_ms = int(self.clock() * 1000)
        claimed = timers.claim_due(now_ms, lease_ms, limit)
        alert_ids = [int(member) for member, _ in claimed]
        if not alert_ids:
            return []
        done: dict[int, tuple[bool, int | None]] = {}
        try:
            self._step(step, alert_ids, done, outcome)
        except TRANSIENT:
            raise
        except Exception:
            for alert_id in alert_ids:
                try:
                    self._step(step, [alert_id], done, outcome)
                except TRANSIENT:
                    raise
                except Exception:
                    log.exception("timer failed", alert_id=alert_id, timers=timers.key)
        timers.settle(
            now_ms + lease_ms, {str(alert_id): due for alert_id, (_, due) in done.items()}
        )
        return [alert_id for alert_id, (fired, _) in done.items() if fired]

    def _step(
        self,
        step: AlertStep,
        alert_ids: list[int],
        done: dict[int, tuple[bool, int | None]],
        outcome: Outcome,
    ) -> None:
        """Run `step` on alerts in one transaction, noting in `done` whether each notified and
        when its timer is next due (None: not again)."""
        with self.sessions.begin() as session:
            book = self._book(session)
            book.alerts(alert_ids)
            results = {
                alert_id: step(book, alert_id, self.rules, self.calendar.zone)
                for alert_id in alert_ids
            }
            outputs = book.flush()
        done.update(results)
        outcome.outputs += outputs
