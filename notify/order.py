"""The channel order between deliveries of one job: a later step falls back (comes due at
once) when every earlier step has failed, and is withdrawn when the alert was answered
before its wait ran out."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.alerts import Alert
from records.notifications import Delivery, DeliveryOutcome
from records.types import AlertStatus

FAILED = (DeliveryOutcome.FAILED, DeliveryOutcome.GONE)


def waiting(delivery: Delivery, now: datetime) -> bool:
    """Whether `delivery` is a later step still waiting for its turn."""
    return (
        delivery.wait_s > 0
        and delivery.attempts == 0
        and delivery.outcome == DeliveryOutcome.PENDING
        and delivery.next_attempt_at is not None
        and delivery.next_attempt_at > now
    )


def fall_back(session: Session, job_ids: Iterable[str], now: datetime) -> list[Delivery]:
    """Bring the next waiting step of each job forward to `now` when every delivery of the
    earlier steps has failed (no push subscription, an invalid number, given up). Returns the
    deliveries brought forward."""
    ids = sorted(set(job_ids))
    if not ids:
        return []
    rows = session.scalars(
        select(Delivery).where(Delivery.job_id.in_(ids)).order_by(Delivery.job_id, Delivery.id)
    ).all()
    by_job: dict[str, list[Delivery]] = {}
    for row in rows:
        by_job.setdefault(row.job_id, []).append(row)
    moved: list[Delivery] = []
    for deliveries in by_job.values():
        later = [d for d in deliveries if waiting(d, now)]
        if not later:
            continue
        turn = min(d.wait_s for d in later)
        earlier = [d for d in deliveries if d.wait_s < turn]
        if earlier and all(d.outcome in FAILED for d in earlier):
            for delivery in later:
                if delivery.wait_s == turn:
                    delivery.next_attempt_at = now
                    moved.append(delivery)
    return moved


def answered(session: Session, alert_ids: set[int]) -> dict[int, str]:
    """The status of each of these alerts that someone has answered (no longer `new`);
    later steps of the channel order are not sent for them."""
    if not alert_ids:
        return {}
    rows = session.execute(select(Alert.id, Alert.status).where(Alert.id.in_(alert_ids)))
    return {alert_id: str(status) for alert_id, status in rows if status != AlertStatus.NEW}
