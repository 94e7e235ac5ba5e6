"""Alert records from matched entries: create or group (cooldown), snapshots, episode ends.

Every function works in the caller's transaction. Decisions for one group key are serialised
by locking its `alert_groups` row; an (event, rule) pair is recorded once, so processing an
entry again changes nothing.
"""

import hashlib
import string
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from records.alerts import (
    Alert,
    AlertEvent,
    AlertGroup,
    AlertPerson,
    AlertTransition,
    EventSnapshot,
)
from records.types import OPEN_STATUSES, AlertStatus
from rules.coverage import Subjects, Ward
from rules.definitions import GroupBy, Rule
from rules.signals import Signal, SnapshotNote

MAX_GROUP_KEY = 400


def _upsert(session: Session, table: Table, values: dict[str, Any], changes: list[str]) -> None:
    """INSERT, or on a primary-key conflict update `changes` (nothing if empty)."""
    statement = _dialect(session).insert(table).values(**values)
    keys = [column.name for column in table.primary_key.columns]
    if changes:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in changes}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement)


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
        "source": signal.source,
        "zone": signal.zone or "",
        "type": signal.type,
        "persons": "、".join(w.name for w in wards),
        "address": address,
    }
    return string.Formatter().vformat(rule.alert.title, (), values)[:200]


def _details(signal: Signal) -> dict[str, Any]:
    details: dict[str, Any] = {
        "phase": signal.phase.value,
        "confidence": signal.confidence,
        "zone_tags": list(signal.zone_tags),
        "attributes": signal.attributes,
        "value": signal.value,
        "battery_pct": signal.battery_pct,
    }
    return {name: value for name, value in details.items() if value not in (None, [], {})}


def _dialect(session: Session) -> Any:
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def _lock_group(session: Session, key: str) -> int | None:
    """Create or lock the group's row (one statement); returns the alert it points to."""
    table: Table = AlertGroup.__table__  # type: ignore[assignment]
    statement = _dialect(session).insert(table).values(group_key=key, alert_id=None)
    statement = statement.on_conflict_do_update(
        index_elements=["group_key"], set_={"group_key": statement.excluded.group_key}
    ).returning(table.c.alert_id)
    return session.execute(statement).scalar_one()


def _prior(session: Session, rule_id: str, signal: Signal) -> tuple[bool, int | None]:
    """Whether this entry was recorded for the rule before, and the alert of its episode."""
    rows = session.execute(
        select(AlertEvent.event_key, AlertEvent.alert_id)
        .where(
            AlertEvent.rule_id == rule_id,
            or_(AlertEvent.event_key == signal.key, AlertEvent.episode_key == signal.episode_key),
        )
        .order_by(AlertEvent.id.desc())
    ).all()
    recorded = any(event_key == signal.key for event_key, _ in rows)
    return recorded, rows[0].alert_id if rows else None


def _recorded(session: Session, event_key: str, rule_id: str) -> bool:
    return (
        session.scalar(
            select(AlertEvent.id).where(
                AlertEvent.event_key == event_key, AlertEvent.rule_id == rule_id
            )
        )
        is not None
    )


def _locked_alert(session: Session, alert_id: int) -> Alert | None:
    return session.get(Alert, alert_id, with_for_update=True, populate_existing=True)


def record_match(
    session: Session,
    rule: Rule,
    signal: Signal,
    subjects: Subjects,
    wards: list[Ward],
    now: datetime,
) -> tuple[Alert, bool] | None:
    """Create an alert for a matched entry, or add the entry to the open alert of its episode or
    (within the cooldown) of its group. Returns (alert, created), or None when nothing changed:
    the entry was recorded before, or people already closed its episode's alert."""
    key = group_key(rule, signal, subjects, wards)
    group_alert = _lock_group(session, key)
    recorded, episode_alert = _prior(session, rule.id, signal)
    if recorded:
        return None
    # Lock order everywhere: group, snapshot, alert (a snapshot arriving meanwhile locks
    # snapshot, alert), so concurrent workers never deadlock.
    path = _snapshot_path(session, signal.event_id) if signal.has_snapshot else None
    alert = None if episode_alert is None else _locked_alert(session, episode_alert)
    if alert is not None and alert.status not in OPEN_STATUSES:
        return None
    if alert is None and group_alert is not None:
        current = _locked_alert(session, group_alert)
        if (
            current is not None
            and current.status in OPEN_STATUSES
            and (signal.observed_at - current.last_seen_at).total_seconds() <= rule.alert.cooldown_s
        ):
            alert = current
    created = alert is None
    if alert is None:
        alert = _create(session, rule, signal, subjects, wards, key, now)
        session.execute(
            update(AlertGroup).where(AlertGroup.group_key == key).values(alert_id=alert.id)
        )
    else:
        _update(alert, signal, now)
    event = _add_event(session, alert, rule.id, signal)
    if path and signal.event_id:
        event.snapshot_path = path
        _offer_snapshot(alert, signal.event_id, signal.confidence, path)
    return alert, created


def _create(
    session: Session,
    rule: Rule,
    signal: Signal,
    subjects: Subjects,
    wards: list[Ward],
    key: str,
    now: datetime,
) -> Alert:
    address = wards[0].address if wards else subjects.address
    household_id = wards[0].household_id if wards else next(iter(subjects.household_ids), None)
    alert = Alert(
        rule_id=rule.id,
        type=signal.type,
        title=_title(rule, signal, address, wards),
        severity=rule.alert.severity,
        status=AlertStatus.NEW,
        version=1,
        site=signal.site,
        source_kind=signal.kind.value,
        source=signal.source,
        zone=signal.zone,
        group_key=key,
        household_id=household_id,
        area_id=wards[0].area_id if wards else subjects.area_id,
        first_seen_at=signal.observed_at,
        last_seen_at=signal.observed_at,
        event_count=1,
        details={**_details(signal), "address": address} if address else _details(signal),
        created_at=now,
        updated_at=now,
        persons=[AlertPerson(person_id=ward.id) for ward in wards],
    )
    session.add(alert)
    session.flush()
    session.add(
        AlertTransition(
            alert_id=alert.id,
            from_status=None,
            to_status=AlertStatus.NEW,
            version=1,
            actor="rules",
            at=now,
            note=f"raised by rule {rule.id}",
        )
    )
    return alert


def _update(alert: Alert, signal: Signal, now: datetime) -> None:
    alert.event_count += 1
    if signal.observed_at >= alert.last_seen_at:
        alert.last_seen_at = signal.observed_at
        address = alert.details.get("address")
        alert.details = {**_details(signal), "address": address} if address else _details(signal)
    alert.first_seen_at = min(alert.first_seen_at, signal.observed_at)
    if alert.condition_ended_at is not None and signal.observed_at > alert.condition_ended_at:
        alert.condition_ended_at = None
    alert.updated_at = now


def _add_event(session: Session, alert: Alert, rule_id: str, signal: Signal) -> AlertEvent:
    event = AlertEvent(
        alert_id=alert.id,
        rule_id=rule_id,
        event_key=signal.key,
        episode_key=signal.episode_key,
        event_id=signal.event_id,
        kind=signal.kind.value,
        type=signal.type,
        phase=signal.phase.value,
        observed_at=signal.observed_at,
        confidence=signal.confidence,
        entry_id=signal.entry_id,
        attributes=signal.attributes,
    )
    session.add(event)
    return event


def _snapshot_path(session: Session, event_id: str | None) -> str | None:
    # The row is created (or waited for) before reading it, so an event and its snapshot
    # processed at the same time by two workers are ordered by the row lock: the later one
    # always sees the earlier one's write.
    if event_id is None:
        return None
    _upsert(session, EventSnapshot.__table__, {"event_id": event_id}, [])  # type: ignore[arg-type]
    return session.scalar(
        select(EventSnapshot.path).where(EventSnapshot.event_id == event_id).with_for_update()
    )


def _offer_snapshot(alert: Alert, event_id: str, confidence: float | None, path: str) -> bool:
    """Make `path` the alert's snapshot if it has none or this event is more confident."""
    if alert.snapshot_path is not None and (confidence or 0.0) <= (
        alert.snapshot_confidence or 0.0
    ):
        return False
    alert.snapshot_path = path
    alert.snapshot_event_id = event_id
    alert.snapshot_confidence = confidence
    return True


def attach_snapshot(session: Session, note: SnapshotNote, now: datetime) -> list[Alert]:
    """Store a snapshot and give it to the alerts its event already belongs to; returns the
    alerts whose best snapshot changed."""
    _upsert(
        session,
        EventSnapshot.__table__,  # type: ignore[arg-type]
        {"event_id": note.event_id, "path": note.path, "bytes": note.bytes, "received_at": now},
        ["path", "bytes"],
    )
    changed: list[Alert] = []
    events = session.scalars(
        select(AlertEvent).where(AlertEvent.event_id == note.event_id).order_by(AlertEvent.id)
    ).all()
    for event in events:
        event.snapshot_path = note.path
        alert = _locked_alert(session, event.alert_id)
        if alert is not None and _offer_snapshot(alert, note.event_id, event.confidence, note.path):
            alert.updated_at = now
            changed.append(alert)
    return changed


def end_episode(session: Session, signal: Signal, now: datetime) -> list[Alert]:
    """Record an episode's `end` on the alerts it belongs to; returns those whose condition
    ended with it (every episode they collected has ended). Never closes an alert."""
    rows = session.execute(
        select(AlertEvent.alert_id, AlertEvent.rule_id)
        .where(AlertEvent.episode_key == signal.episode_key)
        .distinct()
    ).all()
    ended: list[Alert] = []
    for alert_id, rule_id in rows:
        if _recorded(session, signal.key, rule_id):
            continue
        alert = _locked_alert(session, alert_id)
        if alert is None:
            continue
        _add_event(session, alert, rule_id, signal)
        alert.updated_at = now
        if _all_episodes_ended(session, alert_id) and alert.condition_ended_at is None:
            alert.condition_ended_at = signal.observed_at
            ended.append(alert)
    return ended


def _all_episodes_ended(session: Session, alert_id: int) -> bool:
    phases = session.execute(
        select(AlertEvent.episode_key, AlertEvent.phase).where(AlertEvent.alert_id == alert_id)
    ).all()
    episodes = {episode for episode, _ in phases}
    finished = {episode for episode, phase in phases if phase == "end"}
    return episodes <= finished


def forget_snapshots(session: Session, before: datetime) -> int:
    """Forget snapshot rows received before `before` (their alerts keep the path; an event
    arriving after that finds no snapshot). Returns how many were removed."""
    result = session.execute(delete(EventSnapshot).where(EventSnapshot.received_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
