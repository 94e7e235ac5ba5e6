"""Sensor devices: the device table (which Zigbee2MQTT or Home Assistant device is which
sensor) and the devices the sensor bridge heard that nobody assigned yet, or whose messages it
could not read. Staff see both (no personal data) and assign a device — to a site serving their
area, as a device id with its kinds, covering a person or household of their areas — or dismiss
it; each is an audit row (`/api/devices/assignments`). Many rows at once: the devices CSV
(`/api/watchlist/devices/csv`)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from alert_api.params import RecordId
from alert_api.viewer import Context, StaffViewer, Viewer
from alert_api.watchlist_files import sites_serving
from records.device_registry import (
    Assignment,
    AssignmentError,
    ListChanged,
    assign_device,
    device_assignments,
    dismiss_unassigned,
    find_unassigned,
    unassigned_devices,
)
from records.devices import SensorDevice, UnassignedDevice
from records.people import Household, Person

router = APIRouter(prefix="/api/devices", tags=["sensor devices"])
CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""Site, device, person and household codes (as in the watch-list files)."""
CHANGED_MEANWHILE = "someone assigned or dismissed this device meanwhile: reload the list"


class DeviceOut(BaseModel):
    """A row of the device table."""

    protocol: str
    address: str
    site: str
    device: str
    kinds: list[str]
    model: str
    location: str
    active: bool


class UnassignedOut(BaseModel):
    """A device heard but found in no row (`unknown_device`), or whose messages could not be
    read (`unreadable`, `detail` says why)."""

    id: int
    protocol: str
    address: str
    friendly_name: str
    model: str
    suggested_kinds: list[str]
    reason: str
    detail: str
    last_payload: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime


class AssignIn(BaseModel):
    """What the device is: published as `device` at `site`, with its sensor kinds, covering a
    person or a household (by code) or nobody yet."""

    site: str = Field(pattern=CODE)
    device: str = Field(pattern=CODE)
    kinds: list[Annotated[str, Field(max_length=32)]] = Field(min_length=1, max_length=7)
    location: str = Field(default="", max_length=100, pattern=r"^[^\x00-\x1f]*$")
    person: str = Field(default="", pattern=f"{CODE}|^$")
    household: str = Field(default="", pattern=f"{CODE}|^$")


class AssignmentOut(BaseModel):
    """An entry of the audit trail: who assigned or dismissed which device, when."""

    action: str
    protocol: str
    address: str
    reason: str
    site: str
    device: str
    kinds: list[str]
    covers: str
    previous: str
    actor: str
    at: datetime


def _device_out(d: SensorDevice) -> DeviceOut:
    return DeviceOut(
        protocol=d.protocol.value,
        address=d.address,
        site=d.site,
        device=d.device,
        kinds=d.kinds,
        model=d.model,
        location=d.location,
        active=d.active,
    )


def unassigned_out(d: UnassignedDevice) -> UnassignedOut:
    """An entry of the unassigned list as the API shows it."""
    return UnassignedOut(
        id=d.id,
        protocol=d.protocol.value,
        address=d.address,
        friendly_name=d.friendly_name,
        model=d.model,
        suggested_kinds=d.suggested_kinds,
        reason=d.reason,
        detail=d.detail,
        last_payload=d.last_payload,
        count=d.count,
        first_seen_at=d.first_seen_at,
        last_seen_at=d.last_seen_at,
    )


@router.get("", response_model=list[DeviceOut])
def get_devices(context: Context, viewer: StaffViewer) -> list[DeviceOut]:
    """The device table, by site and device id."""
    with context.reads() as session:
        rows = session.scalars(
            select(SensorDevice).order_by(SensorDevice.site, SensorDevice.device)
        ).all()
        return [_device_out(d) for d in rows]


@router.get("/unassigned", response_model=list[UnassignedOut])
def get_unassigned(context: Context, viewer: StaffViewer) -> list[UnassignedOut]:
    """Devices waiting to be assigned, most recently heard first, with what they look like."""
    with context.reads() as session:
        return [unassigned_out(d) for d in unassigned_devices(session)]


def _entry(session: Session, entry_id: int) -> UnassignedDevice:
    entry = find_unassigned(session, entry_id)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no unassigned device {entry_id}")
    return entry


def _check_scope(session: Session, viewer: Viewer, entry: UnassignedDevice, body: AssignIn) -> None:
    """Staff assign only to sites serving their areas, and only whom their areas hold."""
    if viewer.scope.everything:
        return
    serving = sites_serving(session, viewer)
    if body.site not in serving:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"site {body.site!r} does not serve your area"
        )
    mapped = session.scalar(
        select(SensorDevice.site).where(
            SensorDevice.protocol == entry.protocol, SensorDevice.address == entry.address
        )
    )
    if mapped is not None and mapped not in serving:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the device is mapped at a site not yours")
    if body.person:
        area = session.scalar(
            select(Household.area_id)
            .join(Person, Person.household_id == Household.id)
            .where(Person.code == body.person)
        )
    elif body.household:
        area = session.scalar(select(Household.area_id).where(Household.code == body.household))
    else:
        return
    if area is not None and not viewer.scope.sees_area(area):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "that person or household is not yours")


@router.post(
    "/unassigned/{entry_id}/assign",
    response_model=DeviceOut,
    responses={
        403: {},
        404: {},
        409: {"description": "Someone assigned or dismissed it meanwhile."},
        422: {"description": "What is wrong with the assignment."},
    },
)
def assign(context: Context, viewer: StaffViewer, entry_id: RecordId, body: AssignIn) -> DeviceOut:
    """Assign a device on the list: its device-table row, the coverage of the person or
    household it watches, and an audit row, in one transaction; it leaves the list and the
    bridge publishes its readings from its next table refresh."""
    assignment = Assignment(
        site=body.site,
        device=body.device,
        kinds=tuple(dict.fromkeys(kind.strip() for kind in body.kinds)),
        location=body.location.strip(),
        person=body.person,
        household=body.household,
    )
    with context.writes() as session:
        entry = _entry(session, entry_id)
        _check_scope(session, viewer, entry, body)
        try:
            row = assign_device(
                session, entry, assignment, actor=viewer.display_name, actor_id=viewer.user_id
            )
            out = _device_out(row)
            session.commit()
        except AssignmentError as exc:
            raise HTTPException(422, {"field": exc.field, "message": exc.message}) from None
        except ListChanged:
            raise HTTPException(status.HTTP_409_CONFLICT, CHANGED_MEANWHILE) from None
    return out


@router.post("/unassigned/{entry_id}/dismiss", status_code=204, responses={404: {}, 409: {}})
def dismiss(context: Context, viewer: StaffViewer, entry_id: RecordId) -> None:
    """Take a device off the list without assigning it (it returns if heard again), audited."""
    with context.writes() as session:
        entry = _entry(session, entry_id)
        try:
            dismiss_unassigned(session, entry, actor=viewer.display_name, actor_id=viewer.user_id)
        except ListChanged:
            raise HTTPException(status.HTTP_409_CONFLICT, CHANGED_MEANWHILE) from None
        session.commit()


@router.get("/assignments", response_model=list[AssignmentOut])
def get_assignments(context: Context, viewer: StaffViewer) -> list[AssignmentOut]:
    """The audit trail of the unassigned list, newest first (the last 200)."""
    with context.reads() as session:
        return [
            AssignmentOut(
                action=a.action,
                protocol=a.protocol.value,
                address=a.address,
                reason=a.reason,
                site=a.site,
                device=a.device,
                kinds=a.kinds,
                covers=a.covers,
                previous=a.previous,
                actor=a.actor,
                at=a.at,
            )
            for a in device_assignments(session)
        ]
