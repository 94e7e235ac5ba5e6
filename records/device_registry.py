"""What the sensor bridge reads and writes in the records: the device table, and the devices it
heard that nobody has assigned yet (listed for the grid workers)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from records.devices import SensorDevice, UnassignedDevice
from records.types import DeviceProtocol

PAYLOAD_KEPT = 2000
"""Characters of the last payload kept with an unassigned device."""


@dataclass(frozen=True, slots=True)
class DeviceMapping:
    """One row of the device table, as the bridge uses it."""

    protocol: str
    address: str
    site: str
    device: str
    kinds: tuple[str, ...]
    active: bool


def device_mappings(session: Session) -> list[DeviceMapping]:
    """Every row of the device table."""
    rows = session.scalars(select(SensorDevice).order_by(SensorDevice.id))
    return [
        DeviceMapping(d.protocol.value, d.address, d.site, d.device, tuple(d.kinds), d.active)
        for d in rows
    ]


def table_version(session: Session) -> tuple[int, datetime | None]:
    """Changes whenever a row is added, changed or removed (row count, newest change)."""
    count, newest = session.execute(
        select(func.count(SensorDevice.id), func.max(SensorDevice.updated_at))
    ).one()
    return int(count), newest


_UPSERT_DIALECTS: dict[str, Any] = {"postgresql": postgresql, "sqlite": sqlite}


def report_unassigned(
    session: Session,
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
    """Note that a device nobody assigned was heard (one row per protocol and address: the
    count grows, the last sighting's details are kept)."""
    dialect = _UPSERT_DIALECTS[session.get_bind().dialect.name]
    values = {
        "protocol": DeviceProtocol(protocol),
        "address": address[:200],
        "friendly_name": friendly_name[:200],
        "model": model[:100],
        "suggested_kinds": list(suggested_kinds),
        "reason": reason[:32],
        "detail": detail[:2000],
        "last_payload": payload[:PAYLOAD_KEPT],
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "count": 1,
    }
    insert = dialect.insert(UnassignedDevice).values(values)
    kept = ("friendly_name", "model", "suggested_kinds", "reason", "detail", "last_payload")
    later = func.max if dialect is sqlite else func.greatest
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["protocol", "address"],
            set_={
                **{name: insert.excluded[name] for name in kept},
                "last_seen_at": later(UnassignedDevice.last_seen_at, insert.excluded.last_seen_at),
                "count": UnassignedDevice.count + 1,
            },
        )
    )


def unassigned_devices(session: Session) -> list[UnassignedDevice]:
    """Devices waiting to be assigned, most recently heard first."""
    query = select(UnassignedDevice).order_by(
        UnassignedDevice.last_seen_at.desc(), UnassignedDevice.id
    )
    return list(session.scalars(query))


class RecordsDeviceDirectory:
    """The device table and the unassigned list behind the bridge's directory interface, each
    call in its own transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def version(self) -> tuple[int, datetime | None]:
        """See `table_version`."""
        with self.sessions() as session:
            return table_version(session)

    def mappings(self) -> list[DeviceMapping]:
        """See `device_mappings`."""
        with self.sessions() as session:
            return device_mappings(session)

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
        """See `report_unassigned`."""
        with self.sessions.begin() as session:
            report_unassigned(
                session,
                protocol=protocol,
                address=address,
                reason=reason,
                detail=detail,
                friendly_name=friendly_name,
                model=model,
                suggested_kinds=suggested_kinds,
                payload=payload,
                seen_at=seen_at,
            )
