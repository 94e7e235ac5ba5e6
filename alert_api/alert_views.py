"""What the API returns about alerts: list items, details with timeline and audit trail,
built from records or from live-feed entries."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from alert_api.contacts import Contact, age, guardians_of
from alert_api.context import AppContext
from alert_api.dispatches import AssigneeOut
from alert_api.snapshots import clip_url, snapshot_url
from records.alerts import Alert
from records.base import utcnow
from records.feed import alert_summary
from records.lifecycle import ALLOWED
from records.people import Person
from records.types import AlertStatus, AuditAction, Severity
from shouwang.contracts.events import WHOLE_FRAME_ZONE


class AlertOut(BaseModel):
    """An alert as lists and the live feed show it."""

    id: int
    rule_id: str
    type: str = Field(description="Event, sensor or status type (`fall`, `smoke`, `offline`…).")
    title: str
    severity: Severity
    status: AlertStatus
    version: int = Field(description="Send it back with a transition (optimistic concurrency).")
    site: str
    source_kind: str
    source: str
    zone: str | None
    area_id: int | None
    area_name: str | None
    site_name: str = Field(description="The site's display name (its code if it has none).")
    source_name: str = Field(
        description="The camera's, sensor's or (no activity) person's display name, as the "
        "source's events carried it, else as the records know it, else its id."
    )
    zone_name: str | None = Field(
        description="The zone's display name (its id if it has none; none for the whole image)."
    )
    person_ids: list[int]
    first_seen_at: datetime
    last_seen_at: datetime
    event_count: int
    condition_ended_at: datetime | None
    escalation_step: int
    details: dict[str, Any]
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    family_response_at: datetime | None = Field(
        description="When a guardian first answered 我来处理 (家属已响应); not an acknowledgement."
    )
    family_response_by: str | None = Field(description="That guardian's name.")
    arrived_at: datetime | None = Field(
        description="When a grid worker or officer first marked 已到场 (someone is on site)."
    )
    arrived_by: str | None = Field(description="That staff member's name.")
    arrival_missed_at: datetime | None = Field(
        description="When the rules said nobody was on site in time (the arrival recipients "
        "were told)."
    )
    dispatched_at: datetime | None
    due_at: datetime | None = Field(
        description="By when the dispatched case is to be resolved (督办 due time)."
    )
    overdue_at: datetime | None = Field(
        description="When the rules told the supervisors it was past its due time."
    )
    urged_at: datetime | None = Field(description="When a supervisor last urged it (督办).")
    urged_by: str | None = Field(description="That supervisor's name.")
    snapshot_url: str | None = Field(description="The best snapshot (signed URL), if any.")
    clip_url: str | None = Field(
        description="The evidence clip (H.264 MP4, signed URL): the seconds before and after "
        "the start of the episode whose snapshot it shows, else of its first episode that has "
        "one, once the edge has sent it (the live feed announces it: change `clip`)."
    )


class PersonOut(BaseModel):
    """A watch-list person an alert is about."""

    id: int
    code: str
    name: str
    category: str
    address: str
    age: int | None = Field(description="This year, from the birth year.")
    lives_alone: bool
    conditions: list[str] = Field(description="Health conditions the carers need to know.")
    guardians: list[Contact] = Field(description="Who looks after the person, to call.")


class EventOut(BaseModel):
    """One event of an alert's timeline."""

    id: int
    kind: str
    type: str
    phase: str
    observed_at: datetime
    confidence: float | None
    event_id: str | None
    attributes: dict[str, Any]
    snapshot_url: str | None


class TransitionOut(BaseModel):
    """One entry of the audit trail (the first is the creation by the rules)."""

    action: AuditAction = Field(
        description="`status` for a lifecycle change; otherwise an action keeping the status."
    )
    from_status: AlertStatus | None
    to_status: AlertStatus
    version: int
    actor: str
    at: datetime
    note: str
    assignee: AssigneeOut | None = Field(
        None, description="A dispatch's assignee (派单) and whether they were told."
    )


class AlertDetail(AlertOut):
    """An alert with its persons, timeline and audit trail."""

    persons: list[PersonOut]
    events: list[EventOut]
    transitions: list[TransitionOut]
    staff_contacts: list[Contact] = Field(
        description="The nearest grid worker and duty office, to call."
    )
    next_statuses: list[AlertStatus] = Field(
        description="Statuses the alert can move to next (empty for guardians)."
    )


def alert_out(context: AppContext, alert: Alert) -> AlertOut:
    """The list view of an alert (persons loaded): its summary, as the live feed carries it."""
    return alert_out_from_summary(context, alert_summary(alert))


def alert_out_from_summary(context: AppContext, summary: dict[str, Any]) -> AlertOut:
    """The list view of an alert from a live-feed entry's `alert` (no database needed)."""
    values = {name: summary.get(name) for name in AlertOut.model_fields}
    values["area_name"] = context.areas.name(summary.get("area_id"))
    details = summary.get("details") or {}
    values["site_name"] = context.names.site(str(summary.get("site", "")))
    values["source_name"] = details.get("source_name") or context.names.source(
        str(summary.get("site", "")), str(summary.get("source", ""))
    )
    zone = summary.get("zone")
    values["zone_name"] = details.get("zone_name") or (None if zone == WHOLE_FRAME_ZONE else zone)
    alert_id = int(summary["id"])
    values["snapshot_url"] = snapshot_url(context.signer, alert_id, summary.get("snapshot_path"))
    values["clip_url"] = clip_url(
        context.signer, context.settings.api.snapshot_dir, alert_id, summary.get("clip_path")
    )
    values["details"] = details
    values["person_ids"] = summary.get("person_ids") or []
    return AlertOut.model_validate(values)


def alert_detail(
    context: AppContext,
    alert: Alert,
    persons: list[Person],
    staff: list[Contact],
    *,
    can_act: bool,
    assignees: dict[int, AssigneeOut] | None = None,
) -> AlertDetail:
    """The detail view (persons with their households and guardians, events and transitions
    loaded), with the staff to call and, by audit row id, the dispatches' assignees."""
    base = alert_out(context, alert).model_dump()
    now = utcnow()
    return AlertDetail(
        **base,
        persons=[
            PersonOut(
                id=p.id,
                code=p.code,
                name=p.name,
                category=p.category.value,
                address=p.household.address,
                age=age(p, context.zone, now),
                lives_alone=p.lives_alone,
                conditions=list(p.conditions),
                guardians=guardians_of(p),
            )
            for p in persons
        ],
        staff_contacts=staff,
        events=[
            EventOut(
                id=e.id,
                kind=e.kind,
                type=e.type,
                phase=e.phase,
                observed_at=e.observed_at,
                confidence=e.confidence,
                event_id=e.event_id,
                attributes=e.attributes,
                snapshot_url=snapshot_url(context.signer, alert.id, e.snapshot_path),
            )
            for e in alert.events
        ],
        transitions=[
            TransitionOut(
                action=t.action,
                from_status=t.from_status,
                to_status=t.to_status,
                version=t.version,
                actor=t.actor,
                at=t.at,
                note=t.note,
                assignee=(assignees or {}).get(t.id),
            )
            for t in alert.transitions
        ],
        next_statuses=sorted(ALLOWED[alert.status], key=list(AlertStatus).index) if can_act else [],
    )
