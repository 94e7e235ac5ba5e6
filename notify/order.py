"""The channel order between deliveries of one job: a later step falls back (comes due at
once) when no earlier step reached the person (each failed, or its vendor's receipt says the
text was not delivered or the call not answered), and is withdrawn when the alert was answered
before its wait ran out: acknowledged or closed by staff, or — for the family's own steps —
a family member's "我来处理"; a notice about what follows acknowledgement (nobody on site, a
dispatch, a case overdue or urged, a reminder) only once the alert is closed — or, for
nobody on site, once someone is (已到场)."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.alerts import Alert
from records.feed import ARRIVAL_STAGE, after_acknowledgement, job_stage, stage_kind
from records.notifications import NOT_REACHED, Delivery, DeliveryOutcome, RecipientType
from records.types import OPEN_STATUSES, AlertStatus

FAILED = (DeliveryOutcome.FAILED, DeliveryOutcome.GONE)


def missed(delivery: Delivery) -> bool:
    """Whether `delivery` did not reach its person: it failed, or the vendor's receipt says
    the text was not delivered or the call not answered."""
    return delivery.outcome in FAILED or delivery.receipt in NOT_REACHED


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
    earlier steps missed (no push subscription, an invalid number, given up, a text not
    delivered, a call not answered). Returns the deliveries brought forward."""
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
        if earlier and all(missed(d) for d in earlier):
            for delivery in later:
                if delivery.wait_s == turn:
                    delivery.next_attempt_at = now
                    moved.append(delivery)
    return moved


class Answers:
    """Who answered which alerts: staff (the alert is no longer `new`) or the family, and who
    is on site."""

    def __init__(self, session: Session, alert_ids: set[int]) -> None:
        rows = (
            session.execute(
                select(Alert.id, Alert.status, Alert.family_response_by, Alert.arrived_by).where(
                    Alert.id.in_(alert_ids)
                )
            ).all()
            if alert_ids
            else []
        )
        self.staff = {row.id: str(row.status) for row in rows if row.status != AlertStatus.NEW}
        self.family = {row.id: row.family_response_by for row in rows if row.family_response_by}
        self.closed = {row.id: str(row.status) for row in rows if row.status not in OPEN_STATUSES}
        self.on_site = {row.id: row.arrived_by for row in rows if row.arrived_by is not None}

    def reason(self, alert_id: int, recipient_type: RecipientType, job_id: str) -> str | None:
        """Why a waiting step of this job to this recipient is not sent any more (None: it is)."""
        stage = job_stage(job_id)
        if stage_kind(stage) == ARRIVAL_STAGE and alert_id in self.on_site:
            return f"{self.on_site[alert_id]} on site before this step"
        if after_acknowledgement(stage):
            return f"alert {self.closed[alert_id]}" if alert_id in self.closed else None
        if alert_id in self.staff:
            return f"alert {self.staff[alert_id]}: answered before this step"
        if recipient_type is RecipientType.GUARDIAN and alert_id in self.family:
            return f"{self.family[alert_id]} (family) answered before this step"
        return None
