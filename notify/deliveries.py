"""The delivery log's side of sending: claim the deliveries that are due (holding back those in
their recipient's quiet hours, withdrawing held ones whose alert was closed meanwhile), and
record how each attempt went."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from notify.channel import Message, Result, Target
from notify.order import Answers, fall_back
from notify.quiet import quiet_until
from notify.retry import Backoff
from notify.targets import WEBPUSH
from records.alerts import Alert
from records.notifications import (
    OPEN_OUTCOMES,
    Delivery,
    DeliveryError,
    DeliveryOutcome,
    Notification,
    PushSubscription,
    QuietHours,
)
from records.types import OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this worker holds (leased) and is about to attempt."""

    delivery_id: int
    message: Message
    target: Target
    attempt: int
    """Which attempt this is (1 for the first)."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A due delivery not attempted: held for quiet hours, withdrawn (its alert was closed
    while it was held), or its subscription is gone."""

    delivery_id: int
    job_id: str
    alert_id: int
    outcome: DeliveryOutcome
    until: datetime | None = None
    reason: str = ""


def _message(job: Notification) -> Message:
    return Message(
        job_id=job.job_id,
        alert_id=job.alert_id,
        step=job.step,
        severity=job.severity,
        title=job.title,
        body=job.body,
        place=job.place,
        lead=job.lead,
        created_at=job.created_at,
    )


def claim_due(
    session: Session, now: datetime, limit: int, lease_s: float, zone: ZoneInfo
) -> tuple[list[Claimed], list[Skipped]]:
    """Lease up to `limit` due deliveries for this worker. Deliveries in their recipient's
    quiet hours are held until the hours end instead; held deliveries whose alert was closed
    meanwhile are withdrawn (nobody wants a 07:00 push about last night's fall that was dealt
    with at 23:00); web pushes whose subscription was removed are settled as gone. Concurrent
    workers never claim the same delivery."""
    rows = session.execute(
        select(Delivery, Notification)
        .join(Notification, Notification.job_id == Delivery.job_id)
        .where(
            Delivery.outcome.in_(OPEN_OUTCOMES),
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(of=Delivery, skip_locked=True)
    ).all()
    if not rows:
        return [], []
    recipients = {job.recipient_id for _, job in rows}
    quiet = {
        (q.recipient_type, q.recipient_id): q
        for q in session.scalars(select(QuietHours).where(QuietHours.recipient_id.in_(recipients)))
    }
    endpoints = [d.target for d, _ in rows if d.channel == WEBPUSH]
    subscriptions = {
        s.endpoint: s
        for s in session.scalars(
            select(PushSubscription).where(PushSubscription.endpoint.in_(endpoints))
        )
    }
    held = {job.alert_id for delivery, job in rows if delivery.outcome == DeliveryOutcome.HELD}
    closed = _closed_alerts(session, held)
    later = {job.alert_id for delivery, job in rows if delivery.wait_s and not delivery.attempts}
    answers = Answers(session, later)
    claimed: list[Claimed] = []
    skipped: list[Skipped] = []
    lease = now + timedelta(seconds=lease_s)
    for delivery, job in rows:
        if delivery.outcome == DeliveryOutcome.HELD and job.alert_id in closed:
            reason = f"alert {closed[job.alert_id]}"
            _settle(delivery, DeliveryOutcome.WITHDRAWN, now, reason, DeliveryError.WITHDRAWN)
            skipped.append(
                Skipped(delivery.id, job.job_id, job.alert_id, delivery.outcome, None, reason)
            )
            continue
        answer = (
            answers.reason(job.alert_id, job.recipient_type, job.job_id)
            if delivery.wait_s
            else None
        )
        if answer and not delivery.attempts:
            _settle(delivery, DeliveryOutcome.WITHDRAWN, now, answer, DeliveryError.WITHDRAWN)
            skipped.append(
                Skipped(delivery.id, job.job_id, job.alert_id, delivery.outcome, None, answer)
            )
            continue
        hours = quiet.get((job.recipient_type, job.recipient_id))
        until = None
        if hours is not None:
            until = quiet_until(now, hours.start_time, hours.end_time, zone, job.severity)
        if until is not None:
            delivery.outcome, delivery.next_attempt_at = DeliveryOutcome.HELD, until
            skipped.append(Skipped(delivery.id, job.job_id, job.alert_id, delivery.outcome, until))
            continue
        keys = None
        if delivery.channel == WEBPUSH:
            subscription = subscriptions.get(delivery.target)
            if subscription is None:
                removed = "push subscription was removed"
                _settle(
                    delivery, DeliveryOutcome.GONE, now, removed, DeliveryError.SUBSCRIPTION_GONE
                )
                skipped.append(Skipped(delivery.id, job.job_id, job.alert_id, delivery.outcome))
                continue
            keys = {"p256dh": subscription.p256dh, "auth": subscription.auth}
        delivery.outcome, delivery.lease_until = DeliveryOutcome.PENDING, lease
        target = Target(delivery.channel, delivery.target, keys)
        claimed.append(Claimed(delivery.id, _message(job), target, delivery.attempts + 1))
    return claimed, skipped


def _closed_alerts(session: Session, alert_ids: set[int]) -> dict[int, str]:
    """The status of each of these alerts that is no longer open (alerts that do not exist
    are not closed: their deliveries go out)."""
    if not alert_ids:
        return {}
    rows = session.execute(select(Alert.id, Alert.status).where(Alert.id.in_(alert_ids)))
    return {alert_id: str(status) for alert_id, status in rows if status not in OPEN_STATUSES}


def _settle(
    delivery: Delivery,
    outcome: DeliveryOutcome,
    now: datetime,
    error: str = "",
    code: DeliveryError | None = None,
) -> None:
    delivery.outcome = outcome
    delivery.last_error, delivery.error_code = error or None, code
    delivery.next_attempt_at = delivery.lease_until = None
    delivery.updated_at = now


class Recorded(StrEnum):
    """What an attempt's result made of the delivery."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    GONE = "gone"
    STALE = "stale"
    """Another worker settled it meanwhile (its lease had run out); nothing changed."""


def record(
    session: Session,
    attempts: Sequence[tuple[Claimed, Result]],
    now: datetime,
    backoff: Backoff,
) -> list[tuple[Recorded, datetime | None]]:
    """Record finished attempts, each as sent, retry (at the returned time), failed, or gone
    (its push subscription is removed)."""
    ids = sorted(claimed.delivery_id for claimed, _ in attempts)
    rows = {
        d.id: d
        for d in session.scalars(
            select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id).with_for_update()
        )
    }
    outcomes = [_record(session, rows.get(c.delivery_id), c, r, now, backoff) for c, r in attempts]
    failed = [
        claimed.message.job_id
        for (claimed, _), (recorded, _) in zip(attempts, outcomes, strict=True)
        if recorded in (Recorded.FAILED, Recorded.GONE)
    ]
    session.flush()
    fall_back(session, failed, now)
    pushed = [
        claimed.target.address
        for (claimed, _), (recorded, _) in zip(attempts, outcomes, strict=True)
        if recorded is Recorded.SENT and claimed.target.channel == WEBPUSH
    ]
    if pushed:
        session.execute(
            update(PushSubscription)
            .where(PushSubscription.endpoint.in_(pushed))
            .values(last_success_at=now)
        )
    return outcomes


def _record(
    session: Session,
    delivery: Delivery | None,
    claimed: Claimed,
    result: Result,
    now: datetime,
    backoff: Backoff,
) -> tuple[Recorded, datetime | None]:
    if delivery is None or delivery.outcome not in OPEN_OUTCOMES:
        return Recorded.STALE, None
    delivery.attempts = max(delivery.attempts, claimed.attempt)
    if result.ok:
        _settle(delivery, DeliveryOutcome.SENT, now)
        delivery.sent_at, delivery.vendor_id = now, result.vendor_id or None
        return Recorded.SENT, None
    if result.gone:
        _settle(delivery, DeliveryOutcome.GONE, now, result.error, result.reason)
        session.execute(
            delete(PushSubscription).where(PushSubscription.endpoint == delivery.target)
        )
        return Recorded.GONE, None
    delay = backoff.delay_s(delivery.attempts, result.retry_after_s) if result.recoverable else None
    if delay is None:
        error = result.error
        if result.recoverable:
            error = f"gave up after {delivery.attempts} attempts; last error: {error}"
        _settle(delivery, DeliveryOutcome.FAILED, now, error, result.reason)
        return Recorded.FAILED, None
    due = now + timedelta(seconds=delay)
    delivery.outcome, delivery.last_error = DeliveryOutcome.PENDING, result.error
    delivery.error_code = result.reason
    delivery.next_attempt_at, delivery.lease_until, delivery.updated_at = due, None, now
    return Recorded.RETRY, due
