"""Notification jobs: one per recipient, queued in the outbox with the alert change."""

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from records.alerts import Alert
from records.feed import NotificationJob
from records.outbox import add_job
from rules.recipients import Directory

SEVERITY_LABELS = {"low": "提示", "medium": "注意", "high": "紧急", "critical": "危急"}


def message_body(alert: Alert, zone: ZoneInfo) -> str:
    """The text a recipient reads: what, where, when (local time)."""
    place = alert.details.get("address") or alert.site
    camera = alert.source + (f" · {alert.zone}" if alert.zone else "")
    when = alert.first_seen_at.astimezone(zone).strftime("%m-%d %H:%M")
    label = SEVERITY_LABELS.get(alert.severity.value, alert.severity.value)
    return f"【{label}】{alert.title}｜{place}｜{camera}｜{when}"


def queue_jobs(
    session: Session,
    directory: Directory,
    alert: Alert,
    step: int,
    specs: Iterable[str],
    zone: ZoneInfo,
    now: datetime,
) -> list[NotificationJob]:
    """Queue a job for every recipient `specs` name for `alert` at escalation `step`."""
    person_ids = sorted(p.person_id for p in alert.persons)
    jobs = [
        NotificationJob(
            job_id=f"{alert.id}:{step}:{recipient.type}:{recipient.id}",
            alert_id=alert.id,
            step=step,
            severity=alert.severity.value,
            title=alert.title,
            body=message_body(alert, zone),
            recipient_type=recipient.type,
            recipient_id=recipient.id,
            recipient_name=recipient.name,
            role=recipient.role,
            phone=recipient.phone,
            channels=recipient.channels,
            created_at=now,
            person_ids=tuple(person_ids),
        )
        for recipient in directory.resolve(session, specs, person_ids, alert.area_id)
    ]
    for job in jobs:
        add_job(session, job)
    return jobs
