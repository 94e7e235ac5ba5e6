"""Alert decisions on matched entries: create or group (cooldown), snapshots, episode ends.

Everything works on an `AlertBook`, in the caller's transaction. Decisions for one group key
are serialised by locking its `alert_groups` row; an (entry, rule) pair is recorded once, so
deciding an entry again changes nothing.
"""

import hashlib
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from records.alerts import EventSnapshot
from records.feed import Change
from records.types import OPEN_STATUSES, Severity
from rules.book import AlertBook, AlertState
from rules.coverage import Subjects, Ward
from rules.definitions import GroupBy, Rule
from rules.signals import ClipNote, Signal, SnapshotNote

MAX_GROUP_KEY = 400
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(Severity)}
"""Low to critical: a rule more severe than a closed alert reopens it."""


@dataclass(frozen=True, slots=True)
class Match:
    """A rule an entry meets, the persons the alert is about, and the alert's group key."""

    rule: Rule
    signal: Signal
    subjects: Subjects
    wards: list[Ward]
    group_key: str

    @classmethod
    def of(cls, rule: Rule, signal: Signal, subjects: Subjects, wards: list[Ward]) -> "Match":
        """The match, with its group key."""
        return cls(rule, signal, subjects, wards, group_key(rule, signal, subjects, wards))


def group_key(rule: Rule, signal: Signal, subjects: Subjects, wards: list[Ward]) -> str:
    """The rule id and the values of its `group_by` dimensions."""
    households = sorted({w.household_id for w in wards}) or list(subjects.household_ids)
    values = {
        GroupBy.SITE: signal.site,
        GroupBy.SOURCE: signal.source,
        GroupBy.ZONE: signal.zone or "-",
        GroupBy.TYPE: signal.type,
        GroupBy.HOUSEHOLD: ",".join(map(str, households)) or "-",
        GroupBy.PERSONS: ",".join(str(w.id) for w in sorted(wards, key=lambda w: w.id)) or "-",
        GroupBy.EPISODE: signal.episode_key,
    }
    key = "|".join([rule.id, *(f"{dim.value}={values[dim]}" for dim in rule.alert.group_by)])
    if len(key) > MAX_GROUP_KEY:
        key = f"{rule.id}|sha256={hashlib.sha256(key.encode()).hexdigest()}"
    return key


def _title(rule: Rule, signal: Signal, address: str, wards: list[Ward]) -> str:
    values = {
        "site": signal.site,
        "source": signal.source_name or signal.source,
        "zone": signal.zone_name or signal.zone or "",
        "type": signal.type,
        "persons": "、".join(w.name for w in wards),
        "address": address,
    }
    return string.Formatter().vformat(rule.alert.title, (), values)[:200]


def _details(signal: Signal) -> dict[str, Any]:
    details: dict[str, Any] = {
        "phase": signal.phase.value,
        "origin": signal.origin,
        "confidence": signal.confidence,
        "zone_tags": list(signal.zone_tags),
        "attributes": signal.attributes,
        "value": signal.value,
        "battery_pct": signal.battery_pct,
        "source_name": signal.source_name,
        "zone_name": signal.zone_name,
    }
    return {name: value for name, value in details.items() if value not in (None, [], {})}


def prepare(book: AlertBook, matches: Sequence[Match]) -> None:
    """Read (and lock) what deciding `matches` needs, in a few statements for all of them:
    group rows, earlier records of their entries and episodes, snapshot rows, alerts."""
    if not matches:
        return
    book.lock_groups(m.group_key for m in matches)
    book.load_prior({m.signal.key for m in matches}, {m.signal.episode_key for m in matches})
    fresh = [m for m in matches if not book.recorded(m.signal.key, m.rule.id)]
    book.lock_snapshots(
        m.signal.event_id for m in fresh if m.signal.has_snapshot and m.signal.event_id
    )
    book.alerts(
        [book.group_alert(m.group_key) for m in fresh]
        + [a for m in fresh for a in book.episode_alerts(m.signal.episode_key)]
    )


def closed_episode_alert(book: AlertBook, rule_id: str, episode_key: str) -> AlertState | None:
    """The closed alert a continuing episode belongs to: the rule's own alert of the episode
    if people closed it, else (when the rule has none) the latest alert of the episode if
    every alert of the episode is closed. The match must have been prepared."""
    own = book.alert(book.episode_alert(rule_id, episode_key))
    if own is not None:
        return own if own.status not in OPEN_STATUSES else None
    alerts = [book.alert(a) for a in book.episode_alerts(episode_key)]
    found = [a for a in alerts if a is not None]
    if not found or any(a.status in OPEN_STATUSES for a in found):
        return None
    return found[-1]


def record_match(book: AlertBook, match: Match) -> tuple[AlertState, Change] | None:
    """Create an alert for a matched entry, or add the entry to the open alert of its episode
    or (within the cooldown) of its group. While the episode of a closed alert goes on, the
    entry joins that alert's timeline instead, and reopens it when the rule is more severe.
    Returns (alert, created, updated or reopened), or None when the entry was recorded before.
    The match must have been prepared."""
    rule, signal = match.rule, match.signal
    if book.recorded(signal.key, rule.id):
        return None
    path = book.snapshot_path(signal.event_id) if signal.has_snapshot and signal.event_id else None
    closed = closed_episode_alert(book, rule.id, signal.episode_key)
    if closed is not None:
        _join(book, closed, signal, path)
        book.add_event(closed, rule.id, signal, path)
        if SEVERITY_RANK[rule.alert.severity] > SEVERITY_RANK[closed.severity]:
            book.reopen(closed, rule.id, rule.alert.severity, f"reopened by rule {rule.id}")
            return closed, Change.REOPENED
        return closed, Change.UPDATED
    alert = book.alert(book.episode_alert(rule.id, signal.episode_key))
    if alert is None:
        current = book.alert(book.group_alert(match.group_key))
        if (
            current is not None
            and current.status in OPEN_STATUSES
            and (signal.observed_at - current.last_seen_at).total_seconds() <= rule.alert.cooldown_s
        ):
            alert = current
    if alert is None:
        alert = _create(book, match, path)
        book.point_group(match.group_key, alert)
        book.add_event(alert, rule.id, signal, path)
        return alert, Change.CREATED
    _join(book, alert, signal, path)
    book.add_event(alert, rule.id, signal, path)
    return alert, Change.UPDATED


def _join(book: AlertBook, alert: AlertState, signal: Signal, path: str | None) -> None:
    """Count the entry on the alert (times, details, a better snapshot)."""
    _update(alert, signal)
    if path and signal.event_id:
        _offer_snapshot(alert, signal.event_id, signal.confidence, path)
    book.changed(alert)


def _create(book: AlertBook, match: Match, snapshot_path: str | None) -> AlertState:
    rule, signal, subjects, wards = match.rule, match.signal, match.subjects, match.wards
    address = wards[0].address if wards else subjects.address
    household_id = wards[0].household_id if wards else next(iter(subjects.household_ids), None)
    return book.create(
        {
            "rule_id": rule.id,
            "type": signal.type,
            "title": _title(rule, signal, address, wards),
            "severity": rule.alert.severity,
            "site": signal.site,
            "source_kind": signal.kind.value,
            "source": signal.source,
            "zone": signal.zone,
            "group_key": match.group_key,
            "household_id": household_id,
            "area_id": wards[0].area_id if wards else subjects.area_id,
            "first_seen_at": signal.observed_at,
            "last_seen_at": signal.observed_at,
            "event_count": 1,
            "condition_ended_at": None,
            "snapshot_path": snapshot_path,
            "snapshot_event_id": signal.event_id if snapshot_path else None,
            "snapshot_confidence": signal.confidence if snapshot_path else None,
            "details": {**_details(signal), "address": address} if address else _details(signal),
        },
        [ward.id for ward in wards],
        f"raised by rule {rule.id}",
    )


def _update(alert: AlertState, signal: Signal) -> None:
    alert.event_count += 1
    if signal.observed_at >= alert.last_seen_at:
        alert.last_seen_at = signal.observed_at
        address = alert.details.get("address")
        alert.details = {**_details(signal), "address": address} if address else _details(signal)
    alert.first_seen_at = min(alert.first_seen_at, signal.observed_at)
    if alert.condition_ended_at is not None and signal.observed_at > alert.condition_ended_at:
        alert.condition_ended_at = None


def _offer_snapshot(alert: AlertState, event_id: str, confidence: float | None, path: str) -> bool:
    """Make `path` the alert's snapshot if it has none or this event is more confident."""
    if alert.snapshot_path is not None and (confidence or 0.0) <= (
        alert.snapshot_confidence or 0.0
    ):
        return False
    alert.snapshot_path = path
    alert.snapshot_event_id = event_id
    alert.snapshot_confidence = confidence
    return True


def attach_snapshot(book: AlertBook, note: SnapshotNote) -> list[AlertState]:
    """Store a snapshot and give it to the alerts its event already belongs to; returns the
    alerts whose best snapshot changed."""
    recorded = book.store_snapshot(note)
    alerts = book.alerts(alert_id for alert_id, _ in recorded)
    changed: list[AlertState] = []
    for alert_id, confidence in recorded:
        alert = alerts.get(alert_id)
        if alert is not None and _offer_snapshot(alert, note.event_id, confidence, note.path):
            book.changed(alert)
            changed.append(alert)
    return changed


def attach_clip(book: AlertBook, note: ClipNote) -> list[AlertState]:
    """Give a stored evidence clip to the alerts of its event and episode that play none yet,
    or whose snapshot is its event's; returns the alerts whose clip changed."""
    changed: list[AlertState] = []
    for alert in book.alerts(book.clip_alerts(note.event_id)).values():
        wanted = alert.clip_path is None or alert.snapshot_event_id == note.event_id
        if wanted and alert.clip_path != note.path:
            alert.clip_path = note.path
            book.changed(alert)
            changed.append(alert)
    return changed


def end_episode(book: AlertBook, signal: Signal) -> list[AlertState]:
    """Record an episode's `end` on the alerts it belongs to (but those first seen after it:
    an edge's outages share one episode key); returns those whose condition ended with it
    (every episode they collected has ended). Never closes an alert.

    The alerts are locked before asking which rules recorded the end, so two transactions
    deciding the same end at once record it once (see rules/ends.py)."""
    pairs = book.episode_rules(signal.episode_key)
    if not pairs:
        return []
    alerts = book.alerts(alert_id for alert_id, _ in pairs)
    done = book.rules_recording(signal.key)
    pairs = [
        (alert_id, rule_id)
        for alert_id, rule_id in pairs
        if rule_id not in done
        and alert_id in alerts
        and alerts[alert_id].first_seen_at <= signal.observed_at
    ]
    if not pairs:
        return []
    episodes = book.episodes_of({alert_id for alert_id, _ in pairs})
    ended: list[AlertState] = []
    for alert_id, rule_id in pairs:
        alert = alerts[alert_id]
        book.add_event(alert, rule_id, signal)
        book.changed(alert)
        recorded = episodes[alert_id] | {(signal.episode_key, signal.phase.value)}
        finished = {episode for episode, phase in recorded if phase == "end"}
        if {episode for episode, _ in recorded} <= finished and alert.condition_ended_at is None:
            alert.condition_ended_at = signal.observed_at
            ended.append(alert)
    return ended


def forget_snapshots(session: Session, before: datetime) -> int:
    """Forget snapshot rows received before `before` (their alerts keep the path; an event
    arriving after that finds no snapshot). Returns how many were removed."""
    result = session.execute(delete(EventSnapshot).where(EventSnapshot.received_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
