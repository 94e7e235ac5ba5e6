"""Notification jobs: one per recipient, queued in the outbox with the alert change."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from records.feed import AlertView, NotificationJob, job_id
from records.types import SEVERITY_LABELS
from rules.recipients import Audience, Directory


@dataclass(frozen=True, slots=True)
class Wording:
    """What a notice says: the body a recipient reads, and the place and lead in it that SMS
    and voice templates take."""

    body: str
    place: str
    lead: str


def wording(alert: AlertView, zone: ZoneInfo, lead: str = "") -> Wording:
    """`【label】[lead｜]title｜[place｜]when`: what, where (the address and the camera's or
    sensor's name, unless the title says them), when (local time), after `lead` if given; in
    words, without camera, zone or site ids."""
    names = (alert.details.get("address"), alert.details.get("source_name"))
    place = " · ".join(name for name in names if name and name not in alert.title)
    when = alert.first_seen_at.astimezone(zone).strftime("%m-%d %H:%M")
    label = SEVERITY_LABELS.get(alert.severity.value, alert.severity.value)
    text = "｜".join(part for part in (lead, alert.title, place, when) if part)
    return Wording(f"【{label}】{text}", place, lead)


@dataclass(frozen=True, slots=True)
class Notice:
    """What to tell whom about an alert at an escalation step, before the recipients (and so
    the jobs) are looked up."""

    alert_id: int
    step: int
    """0: the alert was raised; n: escalation step n."""
    severity: str
    title: str
    body: str
    place: str
    lead: str
    audience: Audience
    created_at: datetime
    stage: str
    """What the notice is in its jobs' ids: the step (`0`, `1`…) or what happened (`family7`)."""
    skip: frozenset[tuple[str, int]] = frozenset()
    """Recipients (type, id) left out: the guardian whose response the notice tells."""

    @classmethod
    def of(
        cls,
        alert: AlertView,
        step: int,
        specs: Sequence[str],
        zone: ZoneInfo,
        now: datetime,
        *,
        stage: str = "",
        lead: str = "",
        skip: frozenset[tuple[str, int]] = frozenset(),
        staff_ids: tuple[int, ...] = (),
    ) -> "Notice":
        """The notice for `alert` as it is now, to the recipients `specs` name and the staff
        `staff_ids` names (`stage`: the step unless given; `lead`: what the body says first)."""
        said = wording(alert, zone, lead)
        return cls(
            alert_id=alert.id,
            step=step,
            severity=alert.severity.value,
            title=alert.title,
            body=said.body,
            place=said.place,
            lead=said.lead,
            audience=Audience(tuple(specs), tuple(alert.person_ids), alert.area_id, staff_ids),
            created_at=now,
            stage=stage or str(step),
            skip=skip,
        )


def jobs(
    session: Session, directory: Directory, notices: Sequence[Notice]
) -> list[NotificationJob]:
    """A job for every recipient of every notice (recipients looked up together)."""
    recipients = directory.resolve(session, [notice.audience for notice in notices])
    return [
        NotificationJob(
            job_id=job_id(notice.alert_id, notice.stage, recipient.type, recipient.id),
            alert_id=notice.alert_id,
            step=notice.step,
            severity=notice.severity,
            title=notice.title,
            body=notice.body,
            place=notice.place,
            lead=notice.lead,
            recipient_type=recipient.type,
            recipient_id=recipient.id,
            recipient_name=recipient.name,
            role=recipient.role,
            phone=recipient.phone,
            channels=recipient.channels,
            created_at=notice.created_at,
            person_ids=notice.audience.person_ids,
        )
        for notice, found in zip(notices, recipients, strict=True)
        for recipient in found
        if (recipient.type, recipient.id) not in notice.skip
    ]
