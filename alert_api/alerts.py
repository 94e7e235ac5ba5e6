"""Alert endpoints: list with filters, detail with timeline, snapshots, transitions (with
notes and conflicts), the one-tap "I'm on it" (a guardian's is a family response) and staff
arrival on site (已到场)."""

from datetime import datetime
from typing import Annotated, TypedDict

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from alert_api.alert_views import AlertDetail, AlertOut, alert_detail, alert_out
from alert_api.contacts import area_ids_of, staff_contacts
from alert_api.context import AppContext
from alert_api.dispatches import assignees
from alert_api.feed import feed_cursor
from alert_api.params import MAX_ID, NAME_PATTERN, RecordId, Text, aware
from alert_api.scope import NO_AREA, visible_area
from alert_api.snapshots import matching_path, snapshot_file
from alert_api.viewer import Context, CurrentViewer, Viewer
from records.alerts import Alert
from records.lifecycle import (
    AlertNotFound,
    InvalidTransition,
    NoteRequired,
    TransitionError,
    VersionConflict,
    acknowledge,
    change_status,
    mark_arrival,
    respond_as_family,
    urge,
)
from records.outbox import OutputStreams
from records.people import Guardianship, Person, Staff
from records.queries import (
    AlertFilter,
    alerts_query,
    area_subtree_ids,
    get_alert,
    staff_covering,
)
from records.types import AlertStatus, Severity, StaffRole
from shouwang.partitions import Partitioner

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

ON_IT_NOTE = "我来处理 / I'm on it"
ARRIVAL_NOTE = "已到场 / on site"
DISPATCHED_STAFF = (StaffRole.GRID_WORKER, StaffRole.DUTY_OFFICER, StaffRole.POLICE)
"""Whom an alert may be dispatched to (派单)."""


class AlertPage(BaseModel):
    """A page of alerts, newest first."""

    items: list[AlertOut]
    next_before_id: int | None = Field(
        description="Pass as `before_id` for the next page (null: no more)."
    )
    feed_cursor: str = Field(
        description="Live-feed position read before the list: open GET /api/feed?after=<this> "
        "to get every change made since, none lost."
    )


class TransitionIn(BaseModel):
    """Move an alert along its lifecycle."""

    to: AlertStatus
    version: int = Field(ge=1, le=MAX_ID, description="The version the decision was based on.")
    note: Text = Field(
        "", max_length=2000, description="Required to resolve or call it a false alarm."
    )
    assignee_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="With `to: dispatched`: the staff member dispatched to (派单), one of "
        "GET /api/alerts/{id}/dispatch-candidates; the rules engine tells them. Required to "
        "re-dispatch (dispatched → dispatched) to someone else.",
    )


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str
    code: str
    current_version: int | None = None
    status: AlertStatus | None = None


class OnItOut(BaseModel):
    """The answer to "I'm on it": what this tap recorded, and the alert now."""

    acknowledged: bool = Field(description="A staff member's tap acknowledged the alert.")
    family_response: bool = Field(
        description="A guardian's tap was recorded (家属已响应); the escalation runs on."
    )
    alert: AlertDetail


class ArrivalIn(BaseModel):
    """A staff member is on site."""

    note: Text = Field("", max_length=500, description="Where, optionally (已到场 at …).")


class ArrivalOut(BaseModel):
    """The answer to an arrival: whether it was recorded, whether it acknowledged the alert,
    and the alert now."""

    arrived: bool = Field(
        description="Recorded (false: the alert is closed, or this user marked it before)."
    )
    acknowledged: bool = Field(
        False, description="The alert was new and this arrival acknowledged it (受理)."
    )
    alert: AlertDetail


class Candidate(BaseModel):
    """A staff member an alert may be dispatched to (派单)."""

    id: int
    name: str
    role: StaffRole
    area: str = Field(description="The name of the area they serve.")
    phone: str


class UrgeIn(BaseModel):
    """A supervisor urges the case on (督办)."""

    note: Text = Field(min_length=1, max_length=2000, description="What to do, by when.")


def visible_alert(context: AppContext, session: Session, viewer: Viewer, alert_id: int) -> Alert:
    """The alert with its persons, events and transitions, if the viewer may see it (else 404,
    never revealing whether it exists)."""
    alert = get_alert(session, alert_id)
    if alert is None or not viewer.scope.sees(alert.area_id, [p.person_id for p in alert.persons]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    return alert


def detail_for(context: AppContext, viewer: Viewer, alert_id: int) -> AlertDetail:
    """The detail view of an alert the viewer may see (404 otherwise)."""
    with context.reads() as session:
        alert = visible_alert(context, session, viewer, alert_id)
        ids = [p.person_id for p in alert.persons]
        persons = list(
            session.scalars(
                select(Person)
                .options(
                    selectinload(Person.household),
                    selectinload(Person.guardianships).selectinload(Guardianship.guardian),
                )
                .where(Person.id.in_(ids))
                .order_by(Person.id)
            )
        )
        staff = staff_contacts(session, area_ids_of(persons, alert.area_id))
        can_act = not viewer.is_guardian
        told = assignees(session, alert.id, alert.transitions) if can_act else {}
        return alert_detail(context, alert, persons, staff, can_act=can_act, assignees=told)


@router.get("", response_model=AlertPage, responses={404: {"description": NO_AREA}})
def list_alerts(
    context: Context,
    viewer: CurrentViewer,
    status_: Annotated[list[AlertStatus], Query(alias="status")] = [],  # noqa: B006
    severity: Annotated[list[Severity], Query()] = [],  # noqa: B006
    type_: Annotated[list[Annotated[str, Query(pattern=NAME_PATTERN)]], Query(alias="type")] = [],  # noqa: B006
    area_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="This area and below (one in the viewer's scope)."),
    ] = None,
    site: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    since: Annotated[datetime | None, Query(description="Raised at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Raised before.")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> AlertPage:
    """Alerts the viewer may see, newest first, filtered (404 for an `area_id` outside the
    viewer's scope, as for an alert); keyset pages with `before_id`."""
    cursor = feed_cursor(context)
    size = limit or context.settings.api.page_size
    criteria = AlertFilter(
        statuses=status_,
        severities=severity,
        types=type_,
        site=site,
        since=aware(since, context.zone),
        until=aware(until, context.zone),
        before_id=before_id,
    )
    with context.reads() as session:
        query = viewer.scope.restrict(alerts_query(criteria))
        if area_id is not None:
            area = visible_area(session, viewer.scope, area_id)
            query = query.where(Alert.area_id.in_(sorted(area_subtree_ids(session, {area.id}))))
        rows = list(
            session.scalars(
                query.options(selectinload(Alert.persons)).order_by(Alert.id.desc()).limit(size + 1)
            )
        )
    items = [alert_out(context, alert) for alert in rows[:size]]
    more = len(rows) > size
    return AlertPage(items=items, next_before_id=items[-1].id if more else None, feed_cursor=cursor)


@router.get("/{alert_id}", response_model=AlertDetail, responses={404: {"model": Problem}})
def get_alert_detail(context: Context, viewer: CurrentViewer, alert_id: RecordId) -> AlertDetail:
    """One alert with the persons it is about, its events (timeline) and its audit trail."""
    return detail_for(context, viewer, alert_id)


@router.get(
    "/{alert_id}/snapshots/{signature}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"model": Problem}},
)
def get_snapshot(
    context: Context,
    viewer: CurrentViewer,
    alert_id: RecordId,
    signature: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
) -> FileResponse:
    """A snapshot of the alert (JPEG), by the signed URL the alert views give."""
    with context.reads() as session:
        alert = visible_alert(context, session, viewer, alert_id)
        paths = [alert.snapshot_path, *(e.snapshot_path for e in alert.events)]
    path = matching_path(context.signer, alert_id, signature, paths)
    found = snapshot_file(context.settings.api.snapshot_dir, path) if path else None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such snapshot")
    return FileResponse(
        found, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get(
    "/{alert_id}/clips/{signature}",
    response_class=FileResponse,
    responses={
        200: {"content": {"video/mp4": {}}},
        206: {"content": {"video/mp4": {}}, "description": "The range asked for."},
        404: {"model": Problem},
    },
)
def get_clip(
    context: Context,
    viewer: CurrentViewer,
    alert_id: RecordId,
    signature: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
) -> FileResponse:
    """The alert's evidence clip (H.264 MP4), by the signed URL the alert views give; answers
    range requests, as video players ask."""
    with context.reads() as session:
        alert = visible_alert(context, session, viewer, alert_id)
        path = alert.clip_path
    signed = path is not None and context.signer.verify(signature, "clip", str(alert_id), path)
    found = snapshot_file(context.settings.api.snapshot_dir, path) if path and signed else None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such clip")
    return FileResponse(
        found, media_type="video/mp4", headers={"Cache-Control": "private, max-age=86400"}
    )


REFUSALS: dict[type[TransitionError], tuple[int, str]] = {
    VersionConflict: (409, "version_conflict"),
    NoteRequired: (422, "note_required"),
    InvalidTransition: (422, "invalid_transition"),
    AlertNotFound: (404, "not_found"),
}
"""The HTTP status and problem code of each refusal of the lifecycle."""


def _refused(exc: TransitionError) -> JSONResponse:
    """The problem answer to a refusal of the lifecycle (a conflict says what is current)."""
    code, kind = REFUSALS[type(exc)]
    extra = (
        {"current_version": exc.current, "status": exc.status}
        if isinstance(exc, VersionConflict)
        else {}
    )
    body = Problem(detail=str(exc), code=kind, **extra)
    return JSONResponse(body.model_dump(mode="json"), status_code=code)


class _Outputs(TypedDict):
    streams: OutputStreams
    rules_prefix: str
    partitioner: Partitioner


def _outputs(context: AppContext) -> _Outputs:
    """Where a change made through the API is told: the live feed, and the rules engine's
    timers in the partition of the alert's site."""
    return _Outputs(
        streams=context.streams,
        rules_prefix=context.settings.api.rules_key_prefix,
        partitioner=context.partitioner,
    )


@router.post(
    "/{alert_id}/transitions",
    response_model=AlertDetail,
    responses={
        403: {"model": Problem},
        404: {"model": Problem},
        409: {"model": Problem, "description": "Someone else changed the alert first."},
        422: {"model": Problem, "description": "Not allowed from its status, or note missing."},
    },
)
def post_transition(
    context: Context, viewer: CurrentViewer, alert_id: RecordId, body: TransitionIn
) -> AlertDetail | JSONResponse:
    """Move the alert to `to`, recorded with the viewer, the time, the note and, for a
    dispatch, the assignee (who is then told)."""
    with context.reads() as session:
        alert = visible_alert(context, session, viewer, alert_id)
        if viewer.is_guardian:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "guardians answer with POST /api/alerts/{id}/on-it"
            )
        if body.assignee_id is not None and body.assignee_id not in {
            s.id for s in candidates(session, alert)
        }:
            problem = Problem(
                detail=f"staff {body.assignee_id} is not one alert {alert_id} may be dispatched "
                "to: pick one of GET /api/alerts/{id}/dispatch-candidates",
                code="invalid_assignee",
            )
            return JSONResponse(problem.model_dump(mode="json"), status_code=422)
    try:
        change_status(
            context.writes,
            context.redis,
            alert_id,
            body.to,
            actor=viewer.display_name,
            expected_version=body.version,
            note=body.note,
            actor_id=viewer.user_id,
            assignee_id=body.assignee_id,
            **_outputs(context),
        )
    except TransitionError as exc:
        return _refused(exc)
    return detail_for(context, viewer, alert_id)


@router.post("/{alert_id}/on-it", response_model=OnItOut, responses={404: {"model": Problem}})
def post_on_it(context: Context, viewer: CurrentViewer, alert_id: RecordId) -> OnItOut:
    """One tap. A guardian's records a family response (家属已响应: who, when), tells the
    others and stops no escalation; a staff member's acknowledges the alert if nobody has."""
    with context.reads() as session:
        visible_alert(context, session, viewer, alert_id)
    if viewer.is_guardian:
        recorded = respond_as_family(
            context.writes,
            context.redis,
            alert_id,
            actor=viewer.display_name,
            actor_id=viewer.user_id,
            note=ON_IT_NOTE,
            **_outputs(context),
        )
        alert = detail_for(context, viewer, alert_id)
        return OnItOut(acknowledged=False, family_response=recorded, alert=alert)
    return OnItOut(
        acknowledged=_acknowledge_if_new(context, viewer, alert_id),
        family_response=False,
        alert=detail_for(context, viewer, alert_id),
    )


@router.get(
    "/{alert_id}/dispatch-candidates",
    response_model=list[Candidate],
    responses={403: {"model": Problem}, 404: {"model": Problem}},
)
def get_dispatch_candidates(
    context: Context, viewer: CurrentViewer, alert_id: RecordId
) -> list[Candidate]:
    """Whom the alert may be dispatched to (派单): the active grid workers, duty offices and
    police serving its area (else its persons' grids) or an area above, nearest first."""
    with context.reads() as session:
        alert = visible_alert(context, session, viewer, alert_id)
        if viewer.is_guardian:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "only staff dispatch alerts")
        return [
            Candidate(id=s.id, name=s.name, role=s.role, area=s.area.name, phone=s.phone)
            for s in candidates(session, alert)
        ]


def candidates(session: Session, alert: Alert) -> list[Staff]:
    """The staff the alert may be dispatched to, nearest first (areas loaded)."""
    persons = session.scalars(
        select(Person)
        .options(selectinload(Person.household))
        .where(Person.id.in_([p.person_id for p in alert.persons]))
    ).all()
    return staff_covering(session, area_ids_of(persons, alert.area_id), DISPATCHED_STAFF)


@router.post(
    "/{alert_id}/arrival",
    response_model=ArrivalOut,
    responses={403: {"model": Problem}, 404: {"model": Problem}},
)
def post_arrival(
    context: Context, viewer: CurrentViewer, alert_id: RecordId, body: ArrivalIn
) -> ArrivalOut:
    """A grid worker or officer is on site (已到场): recorded with who, when and the note; it
    stops the arrival timer and, on an alert nobody has acknowledged yet, acknowledges it
    (受理, stopping the escalation ladder)."""
    with context.reads() as session:
        visible_alert(context, session, viewer, alert_id)
    if viewer.is_guardian:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only staff mark arrival on site")
    arrived = mark_arrival(
        context.writes,
        context.redis,
        alert_id,
        actor=viewer.display_name,
        actor_id=viewer.user_id,
        note=body.note,
        streams=context.streams,
    )
    acknowledged = arrived and _acknowledge_if_new(context, viewer, alert_id, note=ARRIVAL_NOTE)
    return ArrivalOut(
        arrived=arrived, acknowledged=acknowledged, alert=detail_for(context, viewer, alert_id)
    )


@router.post(
    "/{alert_id}/urge",
    response_model=AlertDetail,
    responses={403: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}},
)
def post_urge(
    context: Context, viewer: CurrentViewer, alert_id: RecordId, body: UrgeIn
) -> AlertDetail | JSONResponse:
    """A supervisor (or admin) urges an open case on (督办) with a note: recorded in the audit
    trail and on the live feed and told to the staff on the case; status unchanged."""
    with context.reads() as session:
        visible_alert(context, session, viewer, alert_id)
    if not viewer.can_urge:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only supervisors urge cases on")
    try:
        urge(
            context.writes,
            context.redis,
            alert_id,
            actor=viewer.display_name,
            actor_id=viewer.user_id,
            note=body.note,
            **_outputs(context),
        )
    except TransitionError as exc:
        return _refused(exc)
    return detail_for(context, viewer, alert_id)


def _acknowledge_if_new(
    context: AppContext, viewer: Viewer, alert_id: int, *, note: str = ON_IT_NOTE
) -> bool:
    """Acknowledge the alert if it is still new (retrying a lost race); whether this did."""
    for _attempt in range(3):
        with context.reads() as session:
            alert = visible_alert(context, session, viewer, alert_id)
            version, current = alert.version, alert.status
        if current is not AlertStatus.NEW:
            return False
        try:
            acknowledge(
                context.writes,
                context.redis,
                alert_id,
                actor=viewer.display_name,
                expected_version=version,
                note=note,
                actor_id=viewer.user_id,
                **_outputs(context),
            )
        except VersionConflict:
            continue
        return True
    return False
