"""Back-office pages: the live dashboard, the statistics, an alert's page, the watch lists,
the sensor devices and the users."""

from collections import defaultdict
from operator import attrgetter

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from alert_api.alerts import detail_for
from alert_api.context import AppContext, AreaInfo
from alert_api.devices import get_assignments, get_devices, get_unassigned
from alert_api.feed import feed_cursor
from alert_api.health import system_health
from alert_api.pages.common import render
from alert_api.params import RecordId
from alert_api.users import list_users
from alert_api.viewer import Context, PageViewer, Viewer
from alert_api.watchlist_files import SCOPED_KINDS, sites_serving
from alert_api.watchlists import list_coverage, list_guardians, list_households, list_persons
from records.devices import UnassignedDevice
from records.people import Site
from records.types import AlertStatus, Severity
from records.users import UserRole
from records.watchlist_csv import KINDS
from shouwang.contracts import SensorType

router = APIRouter(include_in_schema=False)

ALERT_TYPES = (
    "fall",
    "person_down",
    "unattended_child",
    "unattended_elder",
    "inactivity",
    "loitering",
    "zone_intrusion",
    "no_activity",
    "sos_button",
    "smoke",
    "water_leak",
    "water_level",
    "sensor_offline",
    "battery_low",
    "camera_offline",
    "offline",
)

ALARM_REPEAT_MS = 8000
"""How often an unacknowledged critical alert sounds again on the dashboard."""


def _areas(context: AppContext, viewer: Viewer) -> list[dict[str, object]]:
    """The areas the viewer may filter by, each under its parent (a town, its first village,
    that village's grids, the next village…), labelled with its parent's name: 马岩村 · 第一网格
    for 马岩村第一网格."""
    every = context.areas.all()
    children: dict[int | None, list[AreaInfo]] = defaultdict(list)
    for area in every.values():
        if viewer.scope.sees_area(area.id):
            parent = area.parent_id if viewer.scope.sees_area(area.parent_id) else None
            children[parent].append(area)
    ordered: list[AreaInfo] = []

    def walk(parent: int | None) -> None:
        for area in sorted(children[parent], key=attrgetter("code")):
            ordered.append(area)
            walk(area.id)

    walk(None)
    return [
        {
            "id": a.id,
            "parent_id": a.parent_id,
            "label": _label(a, every.get(a.parent_id) if a.parent_id is not None else None),
        }
        for a in ordered
    ]


def _label(area: AreaInfo, parent: AreaInfo | None) -> str:
    """An area's name after its parent's, without the parent's name repeated."""
    if parent is None:
        return area.name
    return f"{parent.name} · {area.name.removeprefix(parent.name) or area.name}"


def _guardian_redirect(viewer: Viewer) -> Response | None:
    return RedirectResponse("/guardian", status_code=303) if viewer.is_guardian else None


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, context: Context, viewer: PageViewer) -> Response:
    """The live alert list with actions, filters, statistics, device health and how many
    sensors wait to be assigned."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    areas = _areas(context, viewer)
    with context.reads() as session:
        unassigned = session.scalar(select(func.count(UnassignedDevice.id)))
    return render(
        request,
        context,
        "dashboard.html",
        viewer,
        areas=areas,
        unassigned=unassigned,
        statuses=list(AlertStatus),
        severities=list(Severity),
        types=ALERT_TYPES,
        script_config={"areas": areas, "alarmRepeatMs": ALARM_REPEAT_MS},
    )


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, context: Context, viewer: PageViewer) -> Response:
    """The 1-3-5 figures and a table per grid, village, town or day for a period, of one
    area of the viewer's or all (the script reads them from `/api/stats`), with the CSV
    export."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    return render(request, context, "stats.html", viewer, areas=_areas(context, viewer))


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    request: Request, context: Context, viewer: PageViewer, alert_id: RecordId
) -> Response:
    """One alert: snapshot, persons, timeline, audit trail and the actions left; its clip
    appears when it arrives (the page follows the live feed from before it read the alert)."""
    cursor = feed_cursor(context)
    alert = detail_for(context, viewer, alert_id)
    return render(
        request,
        context,
        "alert.html",
        viewer,
        alert=alert,
        script_config={"alertId": alert.id, "version": alert.version, "feedCursor": cursor},
    )


@router.get("/guardian/alerts/{alert_id}")
def phone_alert_link(viewer: PageViewer, alert_id: RecordId) -> RedirectResponse:
    """Where push notifications point (the dispatcher's default `click_url`)."""
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.get("/watchlist", response_class=HTMLResponse)
def persons_page(request: Request, context: Context, viewer: PageViewer, q: str = "") -> Response:
    """Watch-list persons of the viewer's areas."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    rows = list_persons(context, viewer.scope, q=q, limit=1000)
    return render(request, context, "watchlist_persons.html", viewer, rows=rows, tab="persons", q=q)


@router.get("/watchlist/households", response_class=HTMLResponse)
def households_page(
    request: Request, context: Context, viewer: PageViewer, q: str = ""
) -> Response:
    """Households of the viewer's areas."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    rows = list_households(context, viewer.scope, q=q, limit=1000)
    return render(
        request, context, "watchlist_households.html", viewer, rows=rows, tab="households", q=q
    )


@router.get("/watchlist/guardians", response_class=HTMLResponse)
def guardians_page(request: Request, context: Context, viewer: PageViewer, q: str = "") -> Response:
    """Guardians of wards in the viewer's areas, with invite links."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    rows = list_guardians(context, viewer.scope, q=q, limit=1000)
    return render(
        request, context, "watchlist_guardians.html", viewer, rows=rows, tab="guardians", q=q
    )


@router.get("/watchlist/coverage", response_class=HTMLResponse)
def coverage_page(request: Request, context: Context, viewer: PageViewer) -> Response:
    """Cameras, zones and sensors covering the viewer's households, with camera states."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    rows = list_coverage(context, viewer.scope, limit=2000)
    states = {
        (edge.site, camera): state
        for edge in system_health(context, viewer).edges
        for camera, state in edge.cameras.items()
    }
    return render(
        request,
        context,
        "watchlist_coverage.html",
        viewer,
        rows=rows,
        states=states,
        tab="coverage",
    )


@router.get("/watchlist/devices", response_class=HTMLResponse)
def devices_page(request: Request, context: Context, viewer: PageViewer) -> Response:
    """Sensor devices: those heard but not assigned (assign or dismiss each), the device table,
    and the audit trail of assignments."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    with context.reads() as session:
        sites = (
            sorted(session.scalars(select(Site.code)))
            if viewer.scope.everything
            else sorted(sites_serving(session, viewer))
        )
    return render(
        request,
        context,
        "watchlist_devices.html",
        viewer,
        unassigned=get_unassigned(context, viewer),
        devices=get_devices(context, viewer),
        assignments=get_assignments(context, viewer),
        sites=sites,
        persons=list_persons(context, viewer.scope, limit=1000),
        kinds=[kind.value for kind in SensorType],
        tab="devices",
    )


@router.get("/watchlist/import", response_class=HTMLResponse)
def import_page(request: Request, context: Context, viewer: PageViewer) -> Response:
    """Upload and download watch-list CSV files."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    kinds = ["areas", "sites", "staff", "persons", "guardians", "devices"]
    if not viewer.scope.everything:
        kinds = ["persons", "guardians", "devices"]
    return render(request, context, "watchlist_import.html", viewer, kinds=kinds, tab="import")


EDITABLE = {"persons": ("code",), "guardians": ("person_code", "phone"), "staff": ("code",)}
"""Watch lists edited in the browser (persons with their household and coverage, guardians,
staff), and the columns that name a record of each."""


@router.get("/watchlist/edit/{kind}", response_class=HTMLResponse)
def edit_page(
    request: Request, context: Context, viewer: PageViewer, kind: str, key: str = ""
) -> Response:
    """A form for one record of a watch list (empty: a new one), checked as its CSV row."""
    if redirect := _guardian_redirect(viewer):
        return redirect
    if kind not in EDITABLE or (kind not in SCOPED_KINDS and not viewer.scope.everything):
        return RedirectResponse("/watchlist", status_code=303)
    handler = KINDS[kind]
    values: dict[str, str] = {}
    if key:
        with context.reads() as session:
            values = next(
                (
                    row
                    for row in handler(session).export()
                    if "|".join(row.get(c, "") for c in EDITABLE[kind]) == key
                ),
                {},
            )
    return render(
        request,
        context,
        "watchlist_edit.html",
        viewer,
        kind=kind,
        columns=handler.columns,
        values=values,
        editing=bool(values),
        config_key_columns=EDITABLE[kind],
        tab=kind if kind != "staff" else "import",
        script_config={"kind": kind, "keyColumns": EDITABLE[kind]},
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, context: Context, viewer: PageViewer) -> Response:
    """Users (admins only)."""
    if viewer.role is not UserRole.ADMIN:
        return RedirectResponse("/", status_code=303)
    return render(
        request,
        context,
        "users.html",
        viewer,
        users=list_users(context, viewer),
        roles=[r for r in UserRole if r is not UserRole.GUARDIAN],
    )
