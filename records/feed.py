"""Entries of the two output streams: alert changes (the live feed) and notification jobs.

Both are written to the outbox in the transaction that makes the change and published to Redis
Streams after commit (`records.outbox`). Every field is a string. Publishing is at least once:
the outbox row id travels as `seq`, so a reader that sees a `seq` again can drop it.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, Protocol, get_args, get_type_hints

from records.types import AlertStatus, Severity

ALERTS_CHANNEL = "alerts"
NOTIFICATIONS_CHANNEL = "notifications"


class Change(StrEnum):
    """What happened to an alert."""

    CREATED = "created"
    UPDATED = "updated"
    """Another event was grouped into it (count, last seen, details)."""
    SNAPSHOT = "snapshot"
    """A (better) snapshot was attached."""
    CLIP = "clip"
    """An evidence clip of one of its episodes was stored (the one it plays)."""
    ENDED = "ended"
    """The condition ended (the episode's `end`); the alert stays open until people close it."""
    ESCALATED = "escalated"
    """An escalation step notified the next recipients."""
    REOPENED = "reopened"
    """The episode of a closed alert went on and got worse: the rules reopened it (status new)."""
    TRANSITION = "transition"
    """A person moved it along its lifecycle (status and version changed)."""
    FAMILY_RESPONSE = "family_response"
    """A guardian answered "我来处理" (status and version unchanged)."""
    ARRIVED = "arrived"
    """A staff member marked 已到场 (status and version unchanged)."""
    ARRIVAL_MISSED = "arrival_missed"
    """Nobody was on site in time: the rules told the arrival recipients."""
    DUE = "due"
    """A dispatched alert got its due time."""
    OVERDUE = "overdue"
    """A dispatched alert passed its due time: the rules told the supervisors."""
    REMINDED = "reminded"
    """An acknowledged alert still unresolved: the rules notified again."""
    URGED = "urged"
    """A supervisor urged the case on (督办; status and version unchanged)."""


class AlertView(Protocol):
    """What an alert change reads of an alert: a `records.alerts.Alert`, or the rules engine's
    in-memory copy of one (`rules.book.AlertState`)."""

    @property
    def id(self) -> int: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def status(self) -> AlertStatus: ...
    @property
    def version(self) -> int: ...
    @property
    def site(self) -> str: ...
    @property
    def source_kind(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def zone(self) -> str | None: ...
    @property
    def household_id(self) -> int | None: ...
    @property
    def area_id(self) -> int | None: ...
    @property
    def person_ids(self) -> list[int]: ...
    @property
    def first_seen_at(self) -> datetime: ...
    @property
    def last_seen_at(self) -> datetime: ...
    @property
    def event_count(self) -> int: ...
    @property
    def condition_ended_at(self) -> datetime | None: ...
    @property
    def snapshot_path(self) -> str | None: ...
    @property
    def clip_path(self) -> str | None: ...
    @property
    def escalation_step(self) -> int: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def family_response_at(self) -> datetime | None: ...
    @property
    def family_response_by(self) -> str | None: ...
    @property
    def arrived_at(self) -> datetime | None: ...
    @property
    def arrived_by(self) -> str | None: ...
    @property
    def arrival_missed_at(self) -> datetime | None: ...
    @property
    def dispatched_at(self) -> datetime | None: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def overdue_at(self) -> datetime | None: ...
    @property
    def urged_at(self) -> datetime | None: ...
    @property
    def urged_by(self) -> str | None: ...


_VIEW_TYPES = {
    name: get_type_hints(member.fget)["return"]
    for name, member in vars(AlertView).items()
    if isinstance(member, property)
}
SUMMARY_FIELDS: tuple[str, ...] = tuple(_VIEW_TYPES)
"""The alert's fields in a live-feed entry and the API's alert views: `AlertView`'s members
(tests/records/test_alert_shapes.py checks them against the `alerts` columns)."""
_read_summary = attrgetter(*SUMMARY_FIELDS)
_TIMES = tuple(n for n, hint in _VIEW_TYPES.items() if datetime in (get_args(hint) or (hint,)))
_ENUMS = tuple(
    n for n, hint in _VIEW_TYPES.items() if isinstance(hint, type) and issubclass(hint, StrEnum)
)


def alert_summary(alert: AlertView) -> dict[str, Any]:
    """The alert as JSON-ready values (what the live feed carries in `alert`): times in ISO
    8601, enums by value."""
    summary = dict(zip(SUMMARY_FIELDS, _read_summary(alert), strict=True))
    for name in _TIMES:
        if summary[name] is not None:
            summary[name] = summary[name].isoformat()
    for name in _ENUMS:
        summary[name] = summary[name].value
    return summary


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One entry of the alerts stream (`shouwang:alerts`).

    Fields: `alert_id`, `change` (a `Change`), `status`, `version`, `severity`, `site`,
    `area_id` (empty if none), `person_ids` (comma-separated), `at` (ISO 8601), `alert` (JSON of
    `alert_summary`), `entry_id` (the events-stream entry that caused it; empty for people's
    transitions and escalations), plus `seq` added when published. The entry's own id is the
    live feed's Last-Event-ID.
    """

    alert_id: int
    change: Change
    status: str
    version: int
    severity: str
    site: str
    area_id: int | None
    person_ids: tuple[int, ...]
    at: datetime
    alert: dict[str, Any]
    entry_id: str = ""
    seq: int | None = None

    @classmethod
    def of(
        cls, alert: AlertView, change: Change, at: datetime, entry_id: str = ""
    ) -> "AlertChange":
        """The change entry for `alert` as it is now (`entry_id`: the event that caused it)."""
        summary = alert_summary(alert)
        return cls(
            alert_id=alert.id,
            change=change,
            status=alert.status.value,
            version=alert.version,
            severity=alert.severity.value,
            site=alert.site,
            area_id=alert.area_id,
            person_ids=tuple(summary["person_ids"]),
            at=at,
            alert=summary,
            entry_id=entry_id,
        )

    def to_fields(self) -> dict[str, str]:
        """Stream entry fields."""
        return {
            "alert_id": str(self.alert_id),
            "change": self.change.value,
            "status": self.status,
            "version": str(self.version),
            "severity": self.severity,
            "site": self.site,
            "area_id": "" if self.area_id is None else str(self.area_id),
            "person_ids": ",".join(str(p) for p in self.person_ids),
            "at": self.at.isoformat(),
            "alert": json.dumps(self.alert, ensure_ascii=False),
            "entry_id": self.entry_id,
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> "AlertChange":
        """Parse a stream entry's fields (decoded to str)."""
        return cls(
            alert_id=int(fields["alert_id"]),
            change=Change(fields["change"]),
            status=fields["status"],
            version=int(fields["version"]),
            severity=fields["severity"],
            site=fields["site"],
            area_id=int(fields["area_id"]) if fields.get("area_id") else None,
            person_ids=tuple(int(p) for p in fields["person_ids"].split(",") if p),
            at=datetime.fromisoformat(fields["at"]),
            alert=json.loads(fields["alert"]),
            entry_id=fields.get("entry_id", ""),
            seq=int(fields["seq"]) if fields.get("seq") else None,
        )


ARRIVAL_STAGE = "arrival"
"""The stage of the notice that nobody was on site in time (job `<alert>:arrival:…`;
`arrival<version>` after a reopening)."""


DISPATCH_STAGE = "dispatch"
"""The stage of the notice telling a dispatch's assignee (job `<alert>:dispatch<audit row>:…`)."""


AFTER_ACKNOWLEDGEMENT = frozenset({ARRIVAL_STAGE, DISPATCH_STAGE, "overdue", "urge", "remind"})
"""Stages (without their number) of notices about what follows acknowledgement: nobody on
site, a dispatch (派单), a case overdue or urged (督办), an acknowledged alert still
unresolved."""


def after_acknowledgement(stage: str) -> bool:
    """Whether notices of `stage` (`urge12`, `remind2`…) are about what follows
    acknowledgement, so acknowledging does not answer them."""
    return stage_kind(stage) in AFTER_ACKNOWLEDGEMENT


def stage_kind(stage: str) -> str:
    """A stage without its number (`urge12` → `urge`)."""
    return stage.rstrip("0123456789")


def job_id(alert_id: int, stage: str, recipient_type: str, recipient_id: int) -> str:
    """The id of the job telling one recipient about one stage of an alert."""
    return f"{alert_id}:{stage}:{recipient_type}:{recipient_id}"


def job_stage(job_id: str) -> str:
    """The stage of a notification job (`0`, `2`, `family7`, `arrival`…) from its id."""
    return job_id.split(":")[1] if job_id.count(":") >= 3 else ""


@dataclass(frozen=True, slots=True)
class NotificationJob:
    """One entry of the notifications stream (`shouwang:notifications`): tell one recipient
    about one alert. `job_id` is stable (`<alert>:<stage>:<recipient_type>:<recipient_id>`, the
    stage being the step or what happened, `family7`, `arrival`, `dispatch12`), so the
    dispatcher delivers each job once however often it is published.

    `step` 0 is the alert's first notification, n the n-th escalation step. `recipient_type` is
    `guardian` or `staff`; `role` is `guardian`, `grid_worker`, `duty_officer` or `police`;
    `channels` holds `webpush` and/or apprise URLs (JSON list in the stream).

    `place` (address, camera or sensor) and `lead` (what the body says before the title: 派单…,
    督办…) are the values the body was composed from, "" where it says none; SMS and voice
    templates take them. `None`: an entry queued before jobs carried them (no `place`, `lead`
    fields), whose body the notifier reads instead.
    """

    job_id: str
    alert_id: int
    step: int
    severity: str
    title: str
    body: str
    place: str | None
    lead: str | None
    recipient_type: str
    recipient_id: int
    recipient_name: str
    role: str
    phone: str
    channels: tuple[str, ...]
    created_at: datetime
    person_ids: tuple[int, ...] = field(default=())
    seq: int | None = None

    @property
    def stage(self) -> str:
        """The stage of the job's notice (`job_stage`)."""
        return job_stage(self.job_id)

    def to_fields(self) -> dict[str, str]:
        """Stream entry fields."""
        return {
            "job_id": self.job_id,
            "alert_id": str(self.alert_id),
            "step": str(self.step),
            "severity": self.severity,
            "title": self.title,
            "body": self.body,
            "recipient_type": self.recipient_type,
            "recipient_id": str(self.recipient_id),
            "recipient_name": self.recipient_name,
            "role": self.role,
            "phone": self.phone,
            "channels": json.dumps(list(self.channels), ensure_ascii=False),
            "person_ids": ",".join(str(p) for p in self.person_ids),
            "created_at": self.created_at.isoformat(),
            **{
                name: value
                for name, value in (("place", self.place), ("lead", self.lead))
                if value is not None
            },
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> "NotificationJob":
        """Parse a stream entry's fields (decoded to str)."""
        return cls(
            job_id=fields["job_id"],
            alert_id=int(fields["alert_id"]),
            step=int(fields["step"]),
            severity=fields["severity"],
            title=fields["title"],
            body=fields["body"],
            place=fields.get("place"),
            lead=fields.get("lead"),
            recipient_type=fields["recipient_type"],
            recipient_id=int(fields["recipient_id"]),
            recipient_name=fields["recipient_name"],
            role=fields["role"],
            phone=fields["phone"],
            channels=tuple(json.loads(fields["channels"])),
            created_at=datetime.fromisoformat(fields["created_at"]),
            person_ids=tuple(int(p) for p in fields.get("person_ids", "").split(",") if p),
            seq=int(fields["seq"]) if fields.get("seq") else None,
        )
