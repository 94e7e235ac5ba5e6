"""Whom an alert's dispatches (派单) named, and whether each was told: read off the audit
trail and the dispatcher's delivery log, for the alert page."""

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from records.alerts import AlertTransition
from records.channel_order import hide_urls
from records.feed import DISPATCH_STAGE, job_id
from records.notice_state import NoticeState, notice_statuses
from records.notifications import DeliveryError, DeliveryReceipt, RecipientType
from records.people import Staff


class Untold(StrEnum):
    """Why a dispatch's assignee is told nothing: the rules engine made no job for them."""

    INACTIVE = "inactive"
    """Their account is deactivated (the engine tells an inactive assignee nothing)."""
    REDISPATCHED = "redispatched"
    """Re-dispatched before they were told: the engine tells only the latest assignee."""


class AssigneeOut(BaseModel):
    """The staff member a dispatch named, and where telling them stands."""

    id: int
    name: str
    notice: NoticeState = Field(
        description="`queued` (not accepted yet), `sent` (a push service or the SMS vendor "
        "accepted it), `failed` (nothing accepted, nothing left to try) or `untold` (no job "
        "was made: see `untold`)."
    )
    channels: list[str] = Field(description="The channels that accepted it (`sms`, `webpush`…).")
    error: str = Field(
        description="Why it failed, in the notifier's or the vendor's words (empty unless "
        "`failed`; URLs cut to their scheme)."
    )
    error_code: DeliveryError | None = Field(
        None,
        description="`error` classified, what the alert page says in words (null unless "
        "`failed`, and for a failure recorded before codes): `no_channel`, "
        "`invalid_channel`, `no_subscription`, `subscription_gone`, `push_refused`, "
        "`no_mobile`, `not_set_up`, `invalid_number`, `no_balance`, `daily_limit`, "
        "`template_rejected`, `account`, `robot_refused`, `throttled`, `unavailable`, "
        "`refused`, `withdrawn` or `internal` (docs/notifications.md).",
    )
    untold: Untold | None = Field(
        None,
        description="Why nobody is told (only with `untold`): `inactive` (the account is "
        "deactivated) or `redispatched` (re-dispatched before the notice was made).",
    )
    receipts: dict[str, DeliveryReceipt] = Field(
        default_factory=dict,
        description="By channel, what the vendor's receipt said where one came: `delivered`, "
        "`undelivered` (a text), `answered`, `unanswered` (a call).",
    )


def dispatch_job_id(alert_id: int, row: AlertTransition) -> str:
    """The notification job telling a dispatch's assignee (the rules engine's job id)."""
    assert row.assignee_id is not None
    return job_id(alert_id, f"{DISPATCH_STAGE}{row.id}", RecipientType.STAFF, row.assignee_id)


def assignees(
    session: Session, alert_id: int, rows: Iterable[AlertTransition]
) -> dict[int, AssigneeOut]:
    """By audit row id: the assignee of each dispatch that named one. A job the dispatcher
    has no record of is untold if its assignee is inactive, or if a later dispatch's job is
    recorded (had the engine made this one, it would have been queued and so recorded
    first); else queued."""
    named = sorted((row for row in rows if row.assignee_id is not None), key=lambda r: r.id)
    if not named:
        return {}
    ids = sorted({r.assignee_id for r in named if r.assignee_id is not None})
    staff = {
        row.id: row
        for row in session.execute(
            select(Staff.id, Staff.name, Staff.active).where(Staff.id.in_(ids))
        )
    }
    statuses = notice_statuses(session, [dispatch_job_id(alert_id, row) for row in named])
    found = {}
    later_recorded = False
    for row in reversed(named):
        assert row.assignee_id is not None
        status = statuses[dispatch_job_id(alert_id, row)]
        person = staff.get(row.assignee_id)
        untold = None
        if not status.recorded and person is not None and not person.active:
            untold = Untold.INACTIVE
        elif not status.recorded and later_recorded:
            untold = Untold.REDISPATCHED
        later_recorded = later_recorded or status.recorded
        found[row.id] = AssigneeOut(
            id=row.assignee_id,
            name=person.name if person else str(row.assignee_id),
            notice=NoticeState.UNTOLD if untold else status.state,
            channels=list(status.channels),
            error=hide_urls(status.error),
            error_code=status.error_code,
            untold=untold,
            receipts=dict(status.receipts),
        )
    return found
