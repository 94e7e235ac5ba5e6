"""Where notification jobs stand, read off the dispatcher's delivery log: what the alert page
shows beside the action that caused them (a dispatch's assignee told or not, and whether the
text reached the phone or the call was answered)."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.notifications import (
    OPEN_OUTCOMES,
    Delivery,
    DeliveryError,
    DeliveryOutcome,
    DeliveryReceipt,
    Notification,
)


class NoticeState(StrEnum):
    """A job as its recipient sees it."""

    QUEUED = "queued"
    """Not planned yet, or no delivery accepted and some still to be tried."""
    SENT = "sent"
    """A push service or vendor accepted one of its deliveries."""
    FAILED = "failed"
    """Nothing accepted and nothing left to try (or no channel to try)."""
    UNTOLD = "untold"
    """No job was made, nor will be (never said here: the caller knows why, e.g. an assignee
    whose account was deactivated)."""


@dataclass(frozen=True, slots=True)
class NoticeStatus:
    """Where one job stands: its state, the channels that accepted it (with the vendor's
    receipt where one came), else the last error and its code."""

    state: NoticeState
    channels: tuple[str, ...] = ()
    error: str = ""
    error_code: DeliveryError | None = None
    """`error` classified (None without an error, or for a delivery recorded before codes)."""
    recorded: bool = True
    """False: the dispatcher has no record of the job (yet)."""
    receipts: Mapping[str, DeliveryReceipt] = field(default_factory=dict)
    """By channel, the latest receipt of its accepted deliveries."""


NO_CHANNEL = ("no channel to reach them", DeliveryError.NO_CHANNEL)
"""The error of a job without deliveries: nothing in the channel order fits the alert."""


def notice_statuses(session: Session, job_ids: Collection[str]) -> dict[str, NoticeStatus]:
    """The status of each job (a job the dispatcher has not recorded yet is queued)."""
    if not job_ids:
        return {}
    planned = set(
        session.scalars(select(Notification.job_id).where(Notification.job_id.in_(job_ids)))
    )
    rows = session.execute(
        select(
            Delivery.job_id,
            Delivery.channel,
            Delivery.outcome,
            Delivery.last_error,
            Delivery.error_code,
            Delivery.receipt,
        )
        .where(Delivery.job_id.in_(planned))
        .order_by(Delivery.id)
    ).all()
    by_job: dict[str, list[tuple[str, DeliveryOutcome, str | None, DeliveryError | None]]] = {}
    receipts: dict[str, dict[str, DeliveryReceipt]] = {}
    for row in rows:
        delivery = (row.channel, row.outcome, row.last_error, row.error_code)
        by_job.setdefault(row.job_id, []).append(delivery)
        if row.receipt is not None:
            receipts.setdefault(row.job_id, {})[row.channel] = row.receipt
    found = {}
    for job in job_ids:
        deliveries = by_job.get(job, [])
        sent = tuple(dict.fromkeys(c for c, o, _, _ in deliveries if o is DeliveryOutcome.SENT))
        if sent:
            found[job] = NoticeStatus(NoticeState.SENT, sent, receipts=receipts.get(job, {}))
        elif job not in planned:
            found[job] = NoticeStatus(NoticeState.QUEUED, recorded=False)
        elif any(o in OPEN_OUTCOMES for _, o, _, _ in deliveries):
            found[job] = NoticeStatus(NoticeState.QUEUED)
        else:
            errors = [(e, code) for _, _, e, code in deliveries if e]
            error, code = errors[-1] if errors else NO_CHANNEL
            found[job] = NoticeStatus(NoticeState.FAILED, error=error, error_code=code)
    return found
