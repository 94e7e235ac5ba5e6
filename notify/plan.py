"""The planning stage: a notification job from the stream becomes a record of the job and one
delivery per target of each step of the recipient's channel order (each push subscription,
the mobile number for `sms` and `voice`, each robot or apprise URL), once per `job_id` however
often the job is published."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from notify.order import fall_back
from notify.phones import mainland_mobile
from notify.targets import PHONE_CHANNELS, WEBPUSH, apprise_channel
from records.channel_order import ChannelStep, parse_step
from records.feed import NotificationJob
from records.notifications import (
    Delivery,
    DeliveryError,
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


Unreachable = tuple[str, DeliveryError] | None
"""Why a target cannot be sent to (its error and code), None if it can."""


def _row(
    job_id: str, channel: str, target: str, now: datetime, wait_s: int, why: Unreachable = None
) -> dict[str, Any]:
    error, code = why or ("", None)
    return {
        "job_id": job_id,
        "channel": channel,
        "target": target,
        "target_key": target_key(target),
        "outcome": DeliveryOutcome.FAILED if error else DeliveryOutcome.PENDING,
        "attempts": 0,
        "wait_s": wait_s,
        "last_error": error or None,
        "error_code": code,
        "next_attempt_at": None if error else now + timedelta(seconds=wait_s),
        "created_at": now,
        "updated_at": now,
    }


def _targets(
    session: Session, job: NotificationJob, step: ChannelStep
) -> list[tuple[str, str, Unreachable]]:
    """(channel, target, why it cannot be sent to) of each delivery a step makes."""
    recipient_type = RecipientType(job.recipient_type)
    if step.channel == WEBPUSH:
        subscriptions = push_subscriptions(session, recipient_type, job.recipient_id)
        if not subscriptions:
            error = (
                f"no push subscription for {recipient_type.value} {job.recipient_id} "
                "(the page was never opened with notifications allowed)"
            )
            return [(WEBPUSH, "", (error, DeliveryError.NO_SUBSCRIPTION))]
        return [(WEBPUSH, s.endpoint, None) for s in subscriptions]
    if step.channel in PHONE_CHANNELS:
        number = mainland_mobile(job.phone)
        if number is None:
            error = (
                f"{recipient_type.value} {job.recipient_id} has no mainland mobile number "
                f"(phone {job.phone!r})"
            )
            return [(step.channel, job.phone, (error, DeliveryError.NO_MOBILE))]
        return [(step.channel, number, None)]
    name = apprise_channel(step.channel)
    assert name is not None, "parse_step accepts only URLs besides the named channels"
    return [(name[:32], step.channel, None)]


def plan_job(session: Session, job: NotificationJob, now: datetime) -> Plan:
    """Record `job` and its deliveries unless it was recorded before: one per target of each
    step of the recipient's channel order that the alert's severity takes, due after the
    step's wait (at once if every earlier step failed already)."""
    recipient_type = RecipientType(job.recipient_type)
    severity = Severity(job.severity)
    inserted = session.scalar(
        insert_ignoring_conflicts(session, Notification)
        .values(
            job_id=job.job_id,
            alert_id=job.alert_id,
            step=job.step,
            recipient_type=recipient_type,
            recipient_id=job.recipient_id,
            severity=severity,
            title=job.title,
            body=job.body,
            place=job.place,
            lead=job.lead,
            created_at=job.created_at,
            received_at=now,
        )
        .returning(Notification.job_id)
    )
    if inserted is None:
        return Plan(job.job_id, job.alert_id, new=False, deliveries=0)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in job.channels:
        if not entry.strip():
            continue
        try:
            step = parse_step(entry)
        except ValueError as exc:
            refused = (str(exc), DeliveryError.INVALID_CHANNEL)
            rows.setdefault(("invalid", entry), _row(job.job_id, "invalid", entry, now, 0, refused))
            continue
        if not step.applies(severity):
            continue
        for channel, target, why in _targets(session, job, step):
            rows.setdefault(
                (channel, target), _row(job.job_id, channel, target, now, step.wait_s, why)
            )
    if rows:
        session.execute(insert(Delivery), list(rows.values()))
        fall_back(session, [job.job_id], now)
    failed = tuple(str(r["last_error"]) for r in rows.values() if r["last_error"])
    return Plan(
        job.job_id, job.alert_id, new=True, deliveries=len(rows) - len(failed), unreachable=failed
    )
