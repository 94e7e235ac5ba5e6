"""The planning stage: a notification job from the stream becomes a record of the job and one
delivery per target (each push subscription of the recipient, each apprise URL), once per
`job_id` however often the job is published."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from notify.phones import mainland_mobile
from notify.targets import PHONE_CHANNELS, WEBPUSH, apprise_channel
from records.feed import NotificationJob
from records.notifications import (
    Delivery,
    DeliveryOutcome,
    Notification,
    RecipientType,
    insert_ignoring_conflicts,
    push_subscriptions,
    target_key,
)
from records.types import Severity
from shouwang.streams import PoisonEntry


class PoisonJob(PoisonEntry):
    """A stream entry that is not a usable notification job; the message says what is wrong."""


def read_job(fields: dict[str, str]) -> NotificationJob:
    """Parse and check a stream entry. Raises PoisonJob."""
    try:
        job = NotificationJob.from_fields(fields)
        RecipientType(job.recipient_type)
        Severity(job.severity)
    except KeyError as exc:
        raise PoisonJob(f"notification job without field {exc}") from None
    except (ValueError, TypeError) as exc:
        raise PoisonJob(f"malformed notification job: {exc}") from None
    if not job.job_id or len(job.job_id) > 200:
        raise PoisonJob("notification job_id must have 1 to 200 characters")
    if not all(isinstance(channel, str) for channel in job.channels):
        raise PoisonJob("notification job channels must be a JSON list of strings")
    if job.created_at.tzinfo is None:
        raise PoisonJob("notification job created_at has no UTC offset")
    return job


@dataclass(frozen=True, slots=True)
class Plan:
    """What planning a job did."""

    job_id: str
    alert_id: int
    new: bool
    """False: the job was planned before (published again, or reclaimed)."""
    deliveries: int
    """Deliveries to send (not counting targets that failed at once)."""
    unreachable: tuple[str, ...] = ()
    """Why some channels have no target (no push subscription, not a URL)."""


def _row(job_id: str, channel: str, target: str, now: datetime, error: str = "") -> dict[str, Any]:
    return {
        "job_id": job_id,
        "channel": channel,
        "target": target,
        "target_key": target_key(target),
        "outcome": DeliveryOutcome.FAILED if error else DeliveryOutcome.PENDING,
        "attempts": 0,
        "last_error": error or None,
        "next_attempt_at": None if error else now,
        "created_at": now,
        "updated_at": now,
    }


def plan_job(session: Session, job: NotificationJob, now: datetime) -> Plan:
    """Record `job` and its deliveries (due now) unless it was recorded before."""
    recipient_type = RecipientType(job.recipient_type)
    inserted = session.scalar(
        insert_ignoring_conflicts(session, Notification)
        .values(
            job_id=job.job_id,
            alert_id=job.alert_id,
            step=job.step,
            recipient_type=recipient_type,
            recipient_id=job.recipient_id,
            severity=Severity(job.severity),
            title=job.title,
            body=job.body,
            created_at=job.created_at,
            received_at=now,
        )
        .returning(Notification.job_id)
    )
    if inserted is None:
        return Plan(job.job_id, job.alert_id, new=False, deliveries=0)
    rows: list[dict[str, Any]] = []
    for channel in dict.fromkeys(c.strip() for c in job.channels if c.strip()):
        if channel == WEBPUSH:
            subscriptions = push_subscriptions(session, recipient_type, job.recipient_id)
            rows += [_row(job.job_id, WEBPUSH, s.endpoint, now) for s in subscriptions]
            if not subscriptions:
                error = (
                    f"no push subscription for {recipient_type.value} {job.recipient_id} "
                    "(the page was never opened with notifications allowed)"
                )
                rows.append(_row(job.job_id, WEBPUSH, "", now, error))
            continue
        if channel in PHONE_CHANNELS:
            number = mainland_mobile(job.phone)
            error = (
                ""
                if number
                else (
                    f"{recipient_type.value} {job.recipient_id} has no mainland mobile number "
                    f"(phone {job.phone!r})"
                )
            )
            rows.append(_row(job.job_id, channel, number or job.phone, now, error))
            continue
        name = apprise_channel(channel)
        if name is None:
            error = "not a channel: use `webpush` or an apprise URL (scheme://…)"
            rows.append(_row(job.job_id, "invalid", channel, now, error))
        else:
            rows.append(_row(job.job_id, name[:32], channel, now))
    if rows:
        session.execute(insert(Delivery), rows)
    failed = tuple(str(r["last_error"]) for r in rows if r["last_error"])
    return Plan(
        job.job_id, job.alert_id, new=True, deliveries=len(rows) - len(failed), unreachable=failed
    )
