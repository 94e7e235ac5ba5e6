"""Sensor devices kept with the watch lists: which Zigbee2MQTT or Home Assistant device is which
Shouwang sensor (site, device id, sensor kinds), the devices heard that nobody assigned, and
the audit trail of what staff did with them."""

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.base import Base, UtcDateTime, str_enum, utcnow
from records.types import DeviceProtocol


class SensorDevice(Base):
    """A third-party device mapped to a wire-contract sensor: readings from `address` (over
    `protocol`) are published as `device` at `site`, one reading per kind it reports."""

    __tablename__ = "sensor_devices"
    __table_args__ = (UniqueConstraint("protocol", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol: Mapped[DeviceProtocol] = mapped_column(str_enum(DeviceProtocol))
    address: Mapped[str] = mapped_column(String(200))
    """IEEE address (`0x00158d0001a2b3c4`, lower case), Zigbee2MQTT friendly name, or Home
    Assistant entity id."""
    site: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64), index=True)
    """The wire `device` id (what coverage names as `sensor:<device>`)."""
    kinds: Mapped[list[str]] = mapped_column(default=list)
    """Sensor types (`door_contact`, `motion`, …) read from its payloads."""
    model: Mapped[str] = mapped_column(String(100), default="")
    location: Mapped[str] = mapped_column(String(100), default="")
    """Where it is fitted (卧室门, 厨房), for the people who look after it."""
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class UnassignedDevice(Base):
    """A device the bridge heard but found in no `SensorDevice` row (or could not read), kept
    for a grid worker to assign; importing its row removes it."""

    __tablename__ = "unassigned_devices"
    __table_args__ = (UniqueConstraint("protocol", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol: Mapped[DeviceProtocol] = mapped_column(str_enum(DeviceProtocol))
    address: Mapped[str] = mapped_column(String(200))
    friendly_name: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    """Vendor and model as Zigbee2MQTT's device list names them, if known."""
    suggested_kinds: Mapped[list[str]] = mapped_column(default=list)
    """Sensor kinds its payloads (or its exposes) look like."""
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    last_payload: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    count: Mapped[int] = mapped_column(default=1)


class DeviceAssignment(Base):
    """Audit trail of the unassigned list: a device a staff member assigned (to a site, device
    id, kinds and whom it covers) or dismissed, with who, when and what the row was before."""

    __tablename__ = "device_assignments"
    __table_args__ = (Index("ix_device_assignments_device", "protocol", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    """`assigned` or `dismissed`."""
    protocol: Mapped[DeviceProtocol] = mapped_column(str_enum(DeviceProtocol))
    address: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(32))
    """Why it was on the list (`unknown_device`, `unreadable`)."""
    site: Mapped[str] = mapped_column(String(64), default="")
    device: Mapped[str] = mapped_column(String(64), default="")
    kinds: Mapped[list[str]] = mapped_column(default=list)
    covers: Mapped[str] = mapped_column(String(100), default="")
    """`person:<code>` or `household:<code>` whose coverage gained the sensor, or empty."""
    previous: Mapped[str] = mapped_column(String(400), default="")
    """The device-table row it replaced (`site/device kinds`), empty for a new row."""
    actor: Mapped[str] = mapped_column(String(100))
    actor_id: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
