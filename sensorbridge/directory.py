"""The device table as the bridge sees it: which third-party device is which Shouwang sensor.

The bridge imports no records code: whoever starts it (`shouwang bridge run`) hands it a
`DeviceDirectory`, in production the records database's device table.
"""

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog

from shouwang.contracts import SensorType

log = structlog.get_logger("shouwang.bridge")

ZIGBEE2MQTT = "zigbee2mqtt"
HOMEASSISTANT = "homeassistant"
PROTOCOLS = frozenset({ZIGBEE2MQTT, HOMEASSISTANT})


class DeviceRecord(Protocol):
    """One row of the device table."""

    @property
    def protocol(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def site(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def kinds(self) -> Sequence[str]: ...
    @property
    def active(self) -> bool: ...
    @property
    def name(self) -> str: ...


class DeviceDirectory(Protocol):
    """Where the device table is read and unassigned devices are reported."""

    def version(self) -> Hashable:
        """Changes whenever the table changes (cheap to ask)."""
        ...

    def mappings(self) -> Sequence[DeviceRecord]:
        """Every row of the table."""
        ...

    def report_unassigned(
        self,
        *,
        protocol: str,
        address: str,
        reason: str,
        detail: str,
        friendly_name: str,
        model: str,
        suggested_kinds: Sequence[str],
        payload: str,
        seen_at: datetime,
    ) -> None:
        """Note a device heard that no row maps (for a grid worker to assign)."""
        ...


@dataclass(frozen=True, slots=True)
class Device:
    """A mapped device: readings from it are published as `device` at `site`."""

    protocol: str
    address: str
    site: str
    device: str
    kinds: tuple[SensorType, ...]
    active: bool = True
    name: str = ""
    """Where it is fitted: its display name in readings."""


class DeviceIndex:
    """The device table by (protocol, address); rows that cannot be used are logged and left
    out (the CSV import checks them, so this only guards against hand-edited tables)."""

    def __init__(self, records: Iterable[DeviceRecord] = ()) -> None:
        self._devices: dict[tuple[str, str], Device] = {}
        for record in records:
            try:
                kinds = tuple(SensorType(kind) for kind in record.kinds)
            except ValueError as exc:
                log.warning("device row skipped", address=record.address, error=str(exc))
                continue
            if record.protocol not in PROTOCOLS or not kinds:
                log.warning("device row skipped", address=record.address, kinds=kinds)
                continue
            device = Device(
                record.protocol,
                record.address,
                record.site,
                record.device,
                kinds,
                record.active,
                record.name,
            )
            self._devices[(record.protocol, record.address)] = device

    def __len__(self) -> int:
        return len(self._devices)

    def find(self, protocol: str, *addresses: str | None) -> Device | None:
        """The device at the first of `addresses` that is in the table."""
        for address in addresses:
            if address and (device := self._devices.get((protocol, address))):
                return device
        return None
