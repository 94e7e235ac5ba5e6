"""Alert state changes made by people (acknowledge, dispatch, resolve, …), with the audit trail.

`transition` works inside the caller's transaction; `change_status` is the whole operation an
API endpoint needs: transition, stop the escalation ladder, make the rules engine look at the
alert, commit, publish. A dispatch (派单) names its assignee on the audit row; the rules engine
tells them. `respond_as_family` records a guardian's "我来处理", which changes no status and
stops nothing; `mark_arrival` a staff member's 已到场, which changes no status and stops the
arrival timer; `urge` a supervisor's 督办, which changes no status and is told to the staff on
the case.

What an action tells Redis — live-feed changes and timer changes (`TimerOp`) — goes into the
outbox in the action's transaction and is published after commit; should Redis be away then,
the rules worker's sweep publishes it once Redis is back (docs/rules.md, "Outputs after
commit").
"""

from datetime import datetime

import redis
import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import Alert, AlertTransition
from records.base import utcnow
from records.feed import AlertChange, Change
from records.outbox import OutputStreams, add_output, publish_pending
from records.timers import TimerOp, escalations_key, lifecycle_key
from records.types import OPEN_STATUSES, AlertStatus, AuditAction
from shouwang.partitions import Partitioner
from shouwang.redis_keys import RULES_PREFIX

log = structlog.get_logger("shouwang.records")

S = AlertStatus
ALLOWED: dict[AlertStatus, frozenset[AlertStatus]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED, S.FALSE_ALARM}),
    S.ACKNOWLEDGED: frozenset({S.DISPATCHED, S.RESOLVED, S.FALSE_ALARM}),
    S.DISPATCHED: frozenset({S.DISPATCHED, S.RESOLVED, S.FALSE_ALARM}),
    S.RESOLVED: frozenset({S.FOLLOWED_UP, S.ARCHIVED}),
    S.FOLLOWED_UP: frozenset({S.ARCHIVED}),
    S.FALSE_ALARM: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset(),
}
"""Which status may follow which (dispatched → dispatched: re-dispatched to someone else)."""
NOTE_REQUIRED = frozenset({S.RESOLVED, S.FALSE_ALARM})
"""Transitions that must say why."""


class TransitionError(Exception):
    """A transition that cannot be made; the message says why."""


class AlertNotFound(TransitionError):
    """No alert with that id."""


class InvalidTransition(TransitionError):
    """The target status cannot follow the current one."""


class NoteRequired(TransitionError):
    """Resolving or calling a false alarm needs a note."""


class VersionConflict(TransitionError):
    """Someone else changed the alert since the caller read it."""

    def __init__(self, alert_id: int, expected: int, current: int, status: AlertStatus) -> None:
        super().__init__(
            f"alert {alert_id} is at version {current} ({status.value}), not {expected}: "
            "someone else changed it; reload and decide again"
        )
        self.current = current
        self.status = status


def transition(
    session: Session,
    alert_id: int,
    to: AlertStatus,
    *,
    actor: str,
    expected_version: int,
    note: str = "",
    actor_id: int | None = None,
    assignee_id: int | None = None,
    now: datetime | None = None,
) -> Alert:
    """Move an alert to `to` if it is still at `expected_version`; record who, when, why and,
    for a dispatch, to whom (`assignee_id`, a staff id; a re-dispatch must name someone else).

    Adds the audit row and the live-feed change to `session`; the caller commits. Raises
    AlertNotFound, VersionConflict, InvalidTransition or NoteRequired.
    """
    now = now or utcnow()
    alert = session.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise AlertNotFound(f"alert {alert_id} does not exist")
    current = alert.status
    if alert.version != expected_version:
        raise VersionConflict(alert_id, expected_version, alert.version, current)
    if to not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current])) or "nothing"
        raise InvalidTransition(
            f"alert {alert_id} is {current.value}: it can become {allowed}, not {to.value}"
        )
    if to in NOTE_REQUIRED and not note.strip():
        raise NoteRequired(f"a note is required to mark alert {alert_id} {to.value}")
    if assignee_id is not None and to is not S.DISPATCHED:
        raise InvalidTransition(f"only a dispatch names an assignee, not {to.value}")
    if current is S.DISPATCHED and to is S.DISPATCHED:
        assigned = current_assignee(session, alert_id)
        if assignee_id is None or assignee_id == assigned:
            raise InvalidTransition(
                f"alert {alert_id} is dispatched to staff {assigned} already: "
                "a re-dispatch names someone else"
            )
    values: dict[str, object] = {"status": to, "version": expected_version + 1, "updated_at": now}
    if to is S.ACKNOWLEDGED:
        values["acknowledged_at"] = now
    if to is S.DISPATCHED and current is not S.DISPATCHED:
        values["dispatched_at"] = now
    if to is S.RESOLVED:
        values["resolved_at"] = now
    if to in (S.RESOLVED, S.FALSE_ALARM):
        values["closed_at"] = now
    # The version in the WHERE clause makes the check and the write one atomic step: of two
    # officers acting at once, the second matches no row and gets the conflict.
    result = session.execute(
        update(Alert)
        .where(Alert.id == alert_id, Alert.version == expected_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(alert)
        raise VersionConflict(alert_id, expected_version, alert.version, alert.status)
    session.refresh(alert)
    session.add(
        AlertTransition(
            alert_id=alert_id,
            from_status=current,
            to_status=to,
            version=alert.version,
            actor=actor,
            actor_id=actor_id,
            at=now,
            note=note.strip(),
            assignee_id=assignee_id,
        )
    )
    add_output(session, AlertChange.of(alert, Change.TRANSITION, now))
    return alert


def current_assignee(session: Session, alert_id: int) -> int | None:
    """The staff id the alert's latest dispatch named (None: never dispatched, or to nobody
    named)."""
    return session.scalar(
        select(AlertTransition.assignee_id)
        .where(
            AlertTransition.alert_id == alert_id,
            AlertTransition.action == AuditAction.STATUS,
            AlertTransition.to_status == S.DISPATCHED,
        )
        .order_by(AlertTransition.id.desc())
        .limit(1)
    )


def change_status(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    alert_id: int,
    to: AlertStatus,
    *,
    actor: str,
    expected_version: int,
    note: str = "",
    actor_id: int | None = None,
    assignee_id: int | None = None,
    streams: OutputStreams | None = None,
    rules_prefix: str = RULES_PREFIX,
    partitioner: Partitioner | None = None,
    now: datetime | None = None,
) -> Alert:
    """`transition` in its own transaction with, in the outbox, the end of the escalation
    ladder and a poke of the lifecycle timer (a due time, reminders, the assignee's notice…),
    both in the partition of the alert's site (with `partitioner`); then publish the outbox.

    Redis being away after the commit does not fail the change: it is logged, and the rules
    worker's sweep publishes the outbox once Redis is back."""
    now = now or utcnow()
    with sessions.begin() as session:
        alert = transition(
            session,
            alert_id,
            to,
            actor=actor,
            expected_version=expected_version,
            note=note,
            actor_id=actor_id,
            assignee_id=assignee_id,
            now=now,
        )
        prefix = _rules_prefix(rules_prefix, partitioner, alert.site)
        add_output(session, TimerOp(escalations_key(prefix), str(alert_id), None))
        _look_again(session, prefix, alert_id, now)
    _announce(sessions, client, streams, alert_id=alert_id, to=to.value, assignee_id=assignee_id)
    return alert


def acknowledge(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    alert_id: int,
    *,
    actor: str,
    expected_version: int,
    note: str = "",
    actor_id: int | None = None,
    streams: OutputStreams | None = None,
    rules_prefix: str = RULES_PREFIX,
    partitioner: Partitioner | None = None,
    now: datetime | None = None,
) -> Alert:
    """Acknowledge an alert: records it, stops its escalation, announces it on the live feed."""
    return change_status(
        sessions,
        client,
        alert_id,
        S.ACKNOWLEDGED,
        actor=actor,
        expected_version=expected_version,
        note=note,
        actor_id=actor_id,
        streams=streams,
        rules_prefix=rules_prefix,
        partitioner=partitioner,
        now=now,
    )


def _rules_prefix(rules_prefix: str, partitioner: Partitioner | None, site: str) -> str:
    return partitioner.name(rules_prefix, site) if partitioner else rules_prefix


def _look_again(session: Session, prefix: str, alert_id: int, now: datetime) -> None:
    """Queue in the outbox a poke of the alert's lifecycle timer under `prefix`: once
    published, the rules engine looks at the alert again."""
    add_output(session, TimerOp(lifecycle_key(prefix), str(alert_id), int(now.timestamp() * 1000)))


def _announce(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    streams: OutputStreams | None,
    **action: object,
) -> None:
    """After a commit: publish the outbox. Redis being away is logged (with `action`), not
    raised: the change stands, and the rules worker's sweep publishes it later."""
    try:
        publish_pending(sessions, client, streams or OutputStreams())
    except redis.RedisError as exc:
        log.error(
            "alert change not announced: Redis unreachable after commit",
            **action,
            error=str(exc),
        )


def _locked(session: Session, alert_id: int) -> Alert:
    """The alert, read afresh and locked for update. Raises AlertNotFound."""
    alert = session.get(Alert, alert_id, populate_existing=True, with_for_update=True)
    if alert is None:
        raise AlertNotFound(f"alert {alert_id} does not exist")
    return alert


def respond_as_family(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    alert_id: int,
    *,
    actor: str,
    actor_id: int,
    note: str,
    streams: OutputStreams | None = None,
    rules_prefix: str = RULES_PREFIX,
    partitioner: Partitioner | None = None,
    now: datetime | None = None,
) -> bool:
    """Record a guardian's "我来处理" on an open alert: the first one's name and time on the
    alert (家属已响应), each guardian's first tap in the audit trail and on the live feed. The
    status, version and escalation ladder stay as they are; the rules engine tells the others
    (its lifecycle timer is made due). Returns whether this tap was recorded (not when the
    alert is closed or the user answered before). Raises AlertNotFound."""
    now = now or utcnow()
    with sessions.begin() as session:
        alert = _record_action(
            session,
            alert_id,
            AuditAction.FAMILY_RESPONSE,
            actor=actor,
            actor_id=actor_id,
            note=note,
            now=now,
        )
        if alert is None:
            return False
        _look_again(session, _rules_prefix(rules_prefix, partitioner, alert.site), alert_id, now)
    _announce(
        sessions, client, streams, alert_id=alert_id, action=AuditAction.FAMILY_RESPONSE.value
    )
    return True


def mark_arrival(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    alert_id: int,
    *,
    actor: str,
    actor_id: int | None,
    note: str = "",
    streams: OutputStreams | None = None,
    now: datetime | None = None,
) -> bool:
    """Record a staff member's 已到场 on an open alert (`note`: where, optionally): the first
    one's name and time on the alert, each member's first arrival in the audit trail and on
    the live feed. Status, version and escalation ladder stay as they are; the arrival timer
    finds someone on site and stops. Returns whether this was recorded (not when the alert
    is closed or the user arrived before). Raises AlertNotFound."""
    now = now or utcnow()
    with sessions.begin() as session:
        alert = _record_action(
            session,
            alert_id,
            AuditAction.ARRIVAL,
            actor=actor,
            actor_id=actor_id,
            note=note,
            now=now,
        )
        if alert is None:
            return False
    _announce(sessions, client, streams, alert_id=alert_id, action=AuditAction.ARRIVAL.value)
    return True


def urge(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    alert_id: int,
    *,
    actor: str,
    actor_id: int | None,
    note: str,
    streams: OutputStreams | None = None,
    rules_prefix: str = RULES_PREFIX,
    partitioner: Partitioner | None = None,
    now: datetime | None = None,
) -> Alert:
    """Record a supervisor's 督办 on an open alert: the audit row with the note, the time and
    name on the alert (the last urge), the live-feed change; the rules engine tells the staff
    on the case (its lifecycle timer is made due). Status and version stay. Raises
    AlertNotFound, NoteRequired, or InvalidTransition when the alert is closed."""
    now = now or utcnow()
    if not note.strip():
        raise NoteRequired(f"a note is required to urge alert {alert_id} on")
    with sessions.begin() as session:
        alert = _locked(session, alert_id)
        if alert.status not in OPEN_STATUSES:
            raise InvalidTransition(f"alert {alert_id} is {alert.status.value}: nothing to urge")
        alert.urged_at, alert.urged_by = now, actor
        _keep_status(
            session, alert, AuditAction.URGE, Change.URGED, actor, actor_id, note.strip(), now
        )
        _look_again(session, _rules_prefix(rules_prefix, partitioner, alert.site), alert_id, now)
    _announce(sessions, client, streams, alert_id=alert_id, action=AuditAction.URGE.value)
    return alert


FIRST: dict[AuditAction, tuple[str, str, Change]] = {
    AuditAction.FAMILY_RESPONSE: (
        "family_response_at",
        "family_response_by",
        Change.FAMILY_RESPONSE,
    ),
    AuditAction.ARRIVAL: ("arrived_at", "arrived_by", Change.ARRIVED),
}
"""For actions that keep the status: the alert's columns of the first one (when, who), and
the live-feed change."""


def _record_action(
    session: Session,
    alert_id: int,
    action: AuditAction,
    *,
    actor: str,
    actor_id: int | None,
    note: str,
    now: datetime,
) -> Alert | None:
    """Record, in `session`, an action that keeps the status on an open alert, once per user
    since it was last (re)opened: the first one's time and actor on the alert, the audit row,
    the live-feed change. Returns the alert, or None when nothing was recorded (closed, or
    done before)."""
    at_column, by_column, change = FIRST[action]
    alert = _locked(session, alert_id)
    done_before = actor_id is not None and session.scalar(
        select(AlertTransition.id).where(
            AlertTransition.alert_id == alert_id,
            AlertTransition.action == action,
            AlertTransition.actor_id == actor_id,
            AlertTransition.at >= (alert.reopened_at or alert.created_at),
        )
    )
    if alert.status not in OPEN_STATUSES or done_before:
        return None
    if getattr(alert, at_column) is None:
        setattr(alert, at_column, now)
        setattr(alert, by_column, actor)
    _keep_status(session, alert, action, change, actor, actor_id, note.strip(), now)
    return alert


def _keep_status(
    session: Session,
    alert: Alert,
    action: AuditAction,
    change: Change,
    actor: str,
    actor_id: int | None,
    note: str,
    now: datetime,
) -> None:
    """Record an action that keeps the alert's status and version: its update time, the
    audit row and the live-feed change, in `session`."""
    alert.updated_at = now
    session.add(
        AlertTransition(
            alert_id=alert.id,
            from_status=alert.status,
            to_status=alert.status,
            version=alert.version,
            actor=actor,
            actor_id=actor_id,
            at=now,
            note=note,
            action=action,
        )
    )
    session.flush()
    add_output(session, AlertChange.of(alert, change, now))
