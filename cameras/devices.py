"""The device table: GB/T 28181 codes of devices and channels → site, camera id, password."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cameras.config import CamerasSettings


@dataclass(frozen=True, slots=True)
class Device:
    """One row of the device table (a registering device, or a channel of one)."""

    id: str
    site: str
    camera: str | None = None
    name: str = ""
    password: str | None = None
    device: str | None = None
    """For a channel: the code of the device it belongs to."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where an event from a code belongs: site and camera id (and the channel's name)."""

    site: str
    camera: str
    name: str = ""


class DeviceTable:
    """Looks devices and channels up by their 20-digit code."""

    def __init__(self, devices: Iterable[Device], default_password: str | None = None) -> None:
        self.devices = {device.id: device for device in devices}
        self.default_password = default_password

    def __len__(self) -> int:
        return len(self.devices)

    def get(self, code: str) -> Device | None:
        """The row for `code`, if any."""
        return self.devices.get(code)

    def password(self, code: str) -> str | None:
        """The registration password of a device (its own, else the default)."""
        device = self.devices.get(code)
        if device is None:
            return None
        return device.password or self.default_password

    def source(self, code: str, registered: str) -> Source | None:
        """Site and camera of an alarm's DeviceID sent by the device `registered`: the
        channel's own row, else the registered device's site with the code as camera id.
        None when neither is in the table."""
        row = self.devices.get(code)
        if row is not None:
            return Source(row.site, row.camera or row.id, row.name)
        device = self.devices.get(registered)
        if device is None:
            return None
        if code == registered:
            return Source(device.site, device.camera or device.id, device.name)
        return Source(device.site, code)


def read_devices(settings: "CamerasSettings") -> DeviceTable:
    """The device table from the `cameras:` config list and, when `database:` is set, the
    records database (`shouwang watchlist import cameras`); config rows win."""
    rows: dict[str, Device] = {}
    if settings.database is not None:
        from sqlalchemy import select

        from records.cameras import CameraDevice
        from records.db import make_engine, make_sessionmaker

        engine = make_engine(settings.database.url)
        try:
            with make_sessionmaker(engine, read_only=True)() as session:
                for row in session.scalars(select(CameraDevice)):
                    rows[row.code] = Device(
                        row.code, row.site, row.camera, row.name, row.password, row.device
                    )
        finally:
            engine.dispose()
    for entry in settings.cameras:
        password = entry.password.get_secret_value() if entry.password else None
        rows[entry.id] = Device(
            entry.id, entry.site, entry.camera, entry.name, password, entry.device
        )
    default = settings.gb28181.password
    return DeviceTable(rows.values(), default.get_secret_value() if default else None)
