"""Whom an alert's dispatches (派单) named, and whether each was told: read off the audit
trail and the dispatcher's delivery log, for the alert page."""

from collections.abc import Iterable

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from records.alerts import AlertTransition
from records.feed import DISPATCH_STAGE, job_id
from records.notice_state import NoticeState, notice_statuses
from records.notifications import RecipientType
from records.people import Staff


class AssigneeOut(BaseModel):
    """The staff member a dispatch named, and where telling them stands."""

    id: int
    name: str
    notice: NoticeState = Field(
        description="`queued` (not accepted yet), `sent` (a push service or the SMS vendor "
        "accepted it) or `failed` (nothing accepted, nothing left to try)."
    )
    channels: list[str] = Field(description="The channels that accepted it (`sms`, `webpush`…).")
    error: str = Field(description="Why it failed (empty unless `failed`).")


def dispatch_job_id(alert_id: int, row: AlertTransition) -> str:
    """The notification job telling a dispatch's assignee (the rules engine's job id)."""
    assert row.assignee_id is not None
    return job_id(alert_id, f"{DISPATCH_STAGE}{row.id}", RecipientType.STAFF, row.assignee_id)


def assignees(
    session: Session, alert_id: int, rows: Iterable[AlertTransition]
) -> dict[int, AssigneeOut]:
    """By audit row id: the assignee of each dispatch that named one."""
    named = [row for row in rows if row.assignee_id is not None]
    if not named:
        return {}
    ids = sorted({r.assignee_id for r in named if r.assignee_id is not None})
    names = {
        row.id: row.name
        for row in session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids)))
    }
    statuses = notice_statuses(session, [dispatch_job_id(alert_id, row) for row in named])
    found = {}
    for row in named:
        assert row.assignee_id is not None
        status = statuses[dispatch_job_id(alert_id, row)]
        found[row.id] = AssigneeOut(
            id=row.assignee_id,
            name=names.get(row.assignee_id, str(row.assignee_id)),
            notice=status.state,
            channels=list(status.channels),
            error=status.error,
        )
    return found
