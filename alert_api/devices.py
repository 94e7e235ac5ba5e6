"""Sensor devices: the device table (which Zigbee2MQTT or Home Assistant device is which
sensor) and the devices the sensor bridge heard that nobody assigned yet. Staff see both (no
personal data); they assign a device by uploading its row (`/api/watchlist/devices/csv`)."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from alert_api.viewer import Context, StaffViewer
from records.device_registry import unassigned_devices
from records.devices import SensorDevice

router = APIRouter(prefix="/api/devices", tags=["sensor devices"])


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
    """A device heard but found in no row (or whose messages could not be read)."""

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


@router.get("", response_model=list[DeviceOut])
def get_devices(context: Context, viewer: StaffViewer) -> list[DeviceOut]:
    """The device table, by site and device id."""
    with context.reads() as session:
        rows = session.scalars(
            select(SensorDevice).order_by(SensorDevice.site, SensorDevice.device)
        ).all()
        return [
            DeviceOut(
                protocol=d.protocol.value,
                address=d.address,
                site=d.site,
                device=d.device,
                kinds=d.kinds,
                model=d.model,
                location=d.location,
                active=d.active,
            )
            for d in rows
        ]


@router.get("/unassigned", response_model=list[UnassignedOut])
def get_unassigned(context: Context, viewer: StaffViewer) -> list[UnassignedOut]:
    """Devices waiting to be assigned, most recently heard first, with what they look like."""
    with context.reads() as session:
        return [
            UnassignedOut(
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
            for d in unassigned_devices(session)
        ]
