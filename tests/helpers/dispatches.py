"""What the dispatch (派单) tests of every service share: the example village's staff by name,
the notification job a dispatch makes, and the dispatcher's record of one."""

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import AlertTransition
from records.base import utcnow
from records.feed import DISPATCH_STAGE, job_id
from records.notifications import Delivery, Notification, RecipientType
from records.people import Staff
from records.types import Severity


def staff_id(sessions: sessionmaker[Session], name: str) -> int:
    """The id of the staff member called `name`."""
    with sessions() as session:
        found = session.scalar(select(Staff.id).where(Staff.name == name))
    assert found is not None, name
    return found


def dispatch_job(sessions: sessionmaker[Session], alert_id: int, assignee: int) -> str:
    """The job id of the notice telling `assignee` of the alert's dispatch to them."""
    with sessions() as session:
        row = session.scalars(
            select(AlertTransition.id).where(
                AlertTransition.alert_id == alert_id, AlertTransition.assignee_id == assignee
            )
        ).one()
    return job_id(alert_id, f"{DISPATCH_STAGE}{row}", RecipientType.STAFF, assignee)


def delivered(
    sessions: sessionmaker[Session], alert_id: int, assignee: int, *deliveries: Delivery
) -> None:
    """Record, as the dispatcher would, the job telling `assignee` of their dispatch and its
    deliveries (none: a job nobody could be reached for)."""
    job = dispatch_job(sessions, alert_id, assignee)
    with sessions.begin() as session:
        session.add(
            Notification(
                job_id=job,
                alert_id=alert_id,
                step=0,
                recipient_type=RecipientType.STAFF,
                recipient_id=assignee,
                severity=Severity.CRITICAL,
                title="老人跌倒：王秀英",
                body="【危急】派单：请于12:30前到场处置｜老人跌倒：王秀英",
                created_at=utcnow(),
                deliveries=list(deliveries),
            )
        )
