"""What the sensor bridge reads and writes in the records: the device table, and the devices it
heard that nobody has assigned yet (listed for the grid workers), which staff assign or dismiss
with an audit row."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from records.devices import DeviceAssignment, SensorDevice, UnassignedDevice
from records.people import Coverage, Household, Person, Site
from records.types import DeviceProtocol, SourceKind
from records.watchlist_csv.cells import IDENTIFIER
from shouwang.contracts import SensorType

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
    name: str = ""
    """Where it is fitted (the row's location), its display name."""


def device_mappings(session: Session) -> list[DeviceMapping]:
    """Every row of the device table."""
    rows = session.scalars(select(SensorDevice).order_by(SensorDevice.id))
    return [
        DeviceMapping(
            d.protocol.value, d.address, d.site, d.device, tuple(d.kinds), d.active, d.location
        )
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


@dataclass(frozen=True, slots=True)
class Assignment:
    """What a staff member says an unassigned device is: the site and device id it is published
    as, its sensor kinds, where it is fitted, and whom it covers (a person or a household, by
    code, or nobody yet)."""

    site: str
    device: str
    kinds: tuple[str, ...]
    location: str = ""
    person: str = ""
    household: str = ""


class AssignmentError(ValueError):
    """An assignment that cannot be made; `field` names the part that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _check(session: Session, entry: UnassignedDevice, assignment: Assignment) -> None:
    if session.scalar(select(Site.id).where(Site.code == assignment.site)) is None:
        raise AssignmentError("site", f"no such site {assignment.site!r}")
    if not IDENTIFIER.fullmatch(assignment.device):
        raise AssignmentError("device", "must be 1-64 letters, digits, _ . - (no spaces)")
    known = {kind.value for kind in SensorType}
    if not assignment.kinds or not set(assignment.kinds) <= known:
        raise AssignmentError("kinds", f"one or more of {', '.join(sorted(known))}")
    if entry.protocol is DeviceProtocol.HOMEASSISTANT and len(assignment.kinds) > 1:
        raise AssignmentError("kinds", "a Home Assistant entity has one state: give one kind")
    if assignment.person and assignment.household:
        raise AssignmentError("person", "cover a person or a household, not both")
    taken = session.scalar(
        select(SensorDevice.address).where(
            SensorDevice.site == assignment.site,
            SensorDevice.device == assignment.device,
            (SensorDevice.protocol != entry.protocol) | (SensorDevice.address != entry.address),
        )
    )
    if taken is not None:
        raise AssignmentError(
            "device", f"{assignment.site}/{assignment.device} already names {taken!r}"
        )


def _cover(session: Session, assignment: Assignment) -> str:
    """Add the sensor to the coverage of the person or household (once); what it covers."""
    if not (assignment.person or assignment.household):
        return ""
    if assignment.person:
        owner = session.scalar(select(Person.id).where(Person.code == assignment.person))
        where = {"person_id": owner}
        covers = f"person:{assignment.person}"
    else:
        owner = session.scalar(select(Household.id).where(Household.code == assignment.household))
        where = {"household_id": owner}
        covers = f"household:{assignment.household}"
    if owner is None:
        field = "person" if assignment.person else "household"
        raise AssignmentError(field, f"no such {covers.replace(':', ' ')}")
    spec = {
        "site": assignment.site,
        "source_kind": SourceKind.SENSOR,
        "source": assignment.device,
        **where,
    }
    if session.scalar(select(Coverage.id).filter_by(**spec)) is None:
        session.add(Coverage(**spec))
    return covers


class ListChanged(Exception):
    """Someone else assigned or dismissed the entry meanwhile."""


def _take_off_the_list(session: Session, entry: UnassignedDevice) -> None:
    """Delete the entry first (a concurrent assignment waits for this transaction), or raise
    `ListChanged` if another transaction already did."""
    result = session.execute(
        delete(UnassignedDevice).where(UnassignedDevice.id == entry.id),
        execution_options={"synchronize_session": False},
    )
    if not isinstance(result, CursorResult) or result.rowcount != 1:
        raise ListChanged(f"{entry.address} was assigned or dismissed meanwhile")


def find_unassigned(session: Session, entry_id: int) -> UnassignedDevice | None:
    """An entry of the unassigned list by id."""
    return session.get(UnassignedDevice, entry_id)


def assign_device(
    session: Session,
    entry: UnassignedDevice,
    assignment: Assignment,
    *,
    actor: str,
    actor_id: int | None,
) -> SensorDevice:
    """Map an unassigned device: it leaves the list, its device-table row (new, or the one it
    replaces), the coverage of whom it watches, the audit row. The caller commits, or rolls back
    on `ListChanged` or `AssignmentError`."""
    _take_off_the_list(session, entry)
    _check(session, entry, assignment)
    row = session.scalar(
        select(SensorDevice).where(
            SensorDevice.protocol == entry.protocol, SensorDevice.address == entry.address
        )
    )
    previous = f"{row.site}/{row.device} {';'.join(row.kinds)}" if row else ""
    covers = _cover(session, assignment)
    if row is None:
        row = SensorDevice(protocol=entry.protocol, address=entry.address, model=entry.model)
        session.add(row)
    row.site, row.device, row.kinds = assignment.site, assignment.device, list(assignment.kinds)
    row.location = assignment.location[:100] or row.location
    row.active = True
    session.add(
        DeviceAssignment(
            action="assigned",
            protocol=entry.protocol,
            address=entry.address,
            reason=entry.reason,
            site=assignment.site,
            device=assignment.device,
            kinds=list(assignment.kinds),
            covers=covers,
            previous=previous[:400],
            actor=actor[:100],
            actor_id=actor_id,
        )
    )
    session.flush()
    return row


def dismiss_unassigned(
    session: Session, entry: UnassignedDevice, *, actor: str, actor_id: int | None
) -> None:
    """Take a device off the list without mapping it (a neighbour's device, a glitch), with an
    audit row; it comes back if it is heard again. The caller commits (rolls back on
    `ListChanged`)."""
    _take_off_the_list(session, entry)
    session.add(
        DeviceAssignment(
            action="dismissed",
            protocol=entry.protocol,
            address=entry.address,
            reason=entry.reason,
            actor=actor[:100],
            actor_id=actor_id,
        )
    )


def device_assignments(session: Session, limit: int = 200) -> list[DeviceAssignment]:
    """The audit trail of the unassigned list, newest first."""
    query = select(DeviceAssignment).order_by(DeviceAssignment.id.desc()).limit(limit)
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
