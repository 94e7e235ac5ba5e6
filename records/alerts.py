"""Alert tables: alerts, the persons and events behind them, the audit trail of transitions,
the open alert per group key, snapshots waiting for their event, and the publishing outbox."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from records.base import Base, UtcDateTime, str_enum, utcnow
from records.types import AlertStatus, AuditAction, Severity


class Alert(Base):
    """One alert: raised by a rule, grouped over repeated events, moved along by people.

    `version` starts at 1 and grows by one with every lifecycle transition: callers pass the
    version they saw, and a transition based on an older one is refused (optimistic
    concurrency). Rule updates (count, last seen, snapshot) do not change it.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_created", "status", "created_at"),
        Index("ix_alerts_site_source", "site", "source"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    """Event type, sensor type, or edge status that raised it (`fall`, `smoke`, `offline`…)."""
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus), default=AlertStatus.NEW)
    version: Mapped[int] = mapped_column(default=1)
    site: Mapped[str] = mapped_column(String(64))
    source_kind: Mapped[str] = mapped_column(String(16))
    """`event` (camera), `sensor` or `status` (edge)."""
    source: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str | None] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(String(400), index=True)
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("households.id", ondelete="SET NULL"), index=True
    )
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    """The household's grid, else the site's area: what scopes who may see it."""
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_count: Mapped[int] = mapped_column(default=1)
    condition_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """Set when the episode's `end` arrives (the condition ended); people still close it."""
    snapshot_path: Mapped[str | None] = mapped_column(String(500))
    """Best snapshot so far, relative to the snapshot directory."""
    snapshot_event_id: Mapped[str | None] = mapped_column(String(128))
    snapshot_confidence: Mapped[float | None]
    clip_path: Mapped[str | None] = mapped_column(String(500))
    """The evidence clip it plays, relative to the snapshot directory: its snapshot event's,
    else the first one stored of its episodes."""
    escalation_step: Mapped[int] = mapped_column(default=0)
    """How many escalation steps have notified (0: only the first recipients)."""
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reopened_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the rules last reopened it (worse while closed): its escalation ladder starts
    again then, by the reopening rule's steps."""
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Latest event's confidence, zone tags and attributes, for display."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When it left the open statuses (resolved or false alarm)."""
    family_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When a guardian first answered "我来处理" (家属已响应); it stops no escalation."""
    family_response_by: Mapped[str | None] = mapped_column(String(100))
    """The display name of that guardian."""
    notices_through: Mapped[int] = mapped_column(default=0)
    """The last audit row whose notice the rules engine sent (a family response's)."""
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When a staff member first marked 已到场 (someone is on site); it stops the arrival timer."""
    arrived_by: Mapped[str | None] = mapped_column(String(100))
    """The display name of that staff member."""
    arrival_missed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the rules engine told the arrival recipients that nobody was on site in time."""
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """By when a dispatched case is to be resolved (the rules engine sets it, by severity)."""
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the rules engine told the supervisors that the case was past its due time."""
    reminders: Mapped[int] = mapped_column(default=0)
    """How often the rules engine re-notified while the alert stayed acknowledged, unresolved."""
    urged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When a supervisor last urged the case on (督办)."""
    urged_by: Mapped[str | None] = mapped_column(String(100))

    persons: Mapped[list["AlertPerson"]] = relationship(cascade="all, delete-orphan")
    events: Mapped[list["AlertEvent"]] = relationship(
        cascade="all, delete-orphan", order_by="AlertEvent.id"
    )
    transitions: Mapped[list["AlertTransition"]] = relationship(
        cascade="all, delete-orphan", order_by="AlertTransition.id"
    )

    @property
    def person_ids(self) -> list[int]:
        """Ids of the persons the alert is about, ascending."""
        return sorted(p.person_id for p in self.persons)


class AlertPerson(Base):
    """A watch-list person an alert is about (guardians see alerts about their wards)."""

    __tablename__ = "alert_persons"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AlertEvent(Base):
    """An event (or reading, or status) that raised or updated an alert: its timeline.

    Unique per (event_key, rule_id): processing an event twice never counts it twice.
    """

    __tablename__ = "alert_events"
    __table_args__ = (
        UniqueConstraint("event_key", "rule_id"),
        Index("ix_alert_events_episode_rule", "episode_key", "rule_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(200))
    """The stream entry's idempotency key (`event:<event_id>`, `sensor:…`, `status:…`)."""
    episode_key: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(8))
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    confidence: Mapped[float | None]
    snapshot_path: Mapped[str | None] = mapped_column(String(500))
    entry_id: Mapped[str] = mapped_column(String(40))
    """Id of the events-stream entry it came from."""
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AlertTransition(Base):
    """Audit trail: one row per lifecycle change (and the creation) or other action on the
    alert (`action`: a family response…), with who, when and why."""

    __tablename__ = "alert_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[AlertStatus | None] = mapped_column(str_enum(AlertStatus))
    to_status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus))
    version: Mapped[int]
    """The alert's version after this transition."""
    actor: Mapped[str] = mapped_column(String(100))
    """Who: `rules` for creation, otherwise the person's display name or login."""
    actor_id: Mapped[int | None]
    """The acting user's id (the API's users table), when a user acted."""
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction), default=AuditAction.STATUS)
    """A status change, or an action that keeps the status (from = to, version unchanged)."""
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    """The staff member a dispatch (派单) named; the rules engine tells them."""


class AlertGroup(Base):
    """The current alert of a group key: the row workers lock to decide update vs create."""

    __tablename__ = "alert_groups"

    group_key: Mapped[str] = mapped_column(String(400), primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))


class EventSnapshot(Base):
    """A stored snapshot by event id; also the row that orders an event and its snapshot when
    they are processed at the same time (either may arrive first)."""

    __tablename__ = "event_snapshots"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    path: Mapped[str | None] = mapped_column(String(500))
    bytes: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class OutboxEntry(Base):
    """A stream entry or timer change written in the same transaction as the change it comes
    of, published to Redis after commit (at least once; `seq` lets readers drop repeats, and
    a timer change applied twice changes nothing more)."""

    __tablename__ = "outbox"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    """`alerts` (live feed) or `notifications` (jobs), mapped to stream names when published;
    or `timers` (a `records.timers.TimerOp`), applied to its timer set."""
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
