"""Who a rule's `notify` names: the guardians of the persons concerned, and staff found by
role up the area hierarchy from the alert's area; or staff named by id (a dispatch's
assignee)."""

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.people import Area, Guardian, Guardianship, Staff
from records.types import AreaLevel, StaffRole
from rules.cache import TtlCache
from rules.sql import in_param, table

AreaRow = tuple[AreaLevel, int | None]
"""An area's level and parent."""
Hierarchy = dict[int, AreaRow | None]
"""Areas by id (None: no such area)."""
Chain = tuple[tuple[int, AreaLevel], ...]
"""An area and its ancestors, nearest first."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person to notify."""

    type: str
    """`guardian` or `staff`."""
    id: int
    name: str
    role: str
    phone: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom a notification is for: rule recipients (validated), the persons it is about, and
    the area staff are found from."""

    specs: tuple[str, ...]
    person_ids: tuple[int, ...]
    area_id: int | None
    staff_ids: tuple[int, ...] = ()
    """Staff named by id, after those the specs find (active ones only)."""


class Directory:
    """Resolves recipients. The area hierarchy and staff change rarely and are cached for
    `ttl_s`; guardians are always read fresh (they add channels, e.g. Web Push, at any time)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._areas: TtlCache[int, AreaRow | None] = TtlCache(ttl_s, clock)
        self._staff: TtlCache[tuple[int, StaffRole], tuple[Recipient, ...]] = TtlCache(ttl_s, clock)

    def resolve(self, session: Session, audiences: Sequence[Audience]) -> list[list[Recipient]]:
        """The recipients of each audience, each once, in the order its specs name them: one
        query for all guardians, and for what is not cached, one for staff and one per level
        of the area hierarchy."""
        if not audiences:
            return []
        chains = self._chains(session, {a.area_id for a in audiences if a.area_id is not None})
        chain_of = [() if a.area_id is None else chains[a.area_id] for a in audiences]
        wanted = [
            (area_id, StaffRole(spec.partition("@")[0]))
            for audience, chain in zip(audiences, chain_of, strict=True)
            for spec in audience.specs
            if spec != "guardians"
            for area_id, _ in chain
        ]
        staff = self._staff.get_many(wanted, lambda missing: _staff(session, missing))
        guardians = _guardians(
            session,
            {p for a in audiences if "guardians" in a.specs for p in a.person_ids},
        )
        named = _named_staff(session, {i for a in audiences for i in a.staff_ids})
        return [
            _recipients(audience, chain, staff, guardians, named)
            for audience, chain in zip(audiences, chain_of, strict=True)
        ]

    def _chains(self, session: Session, area_ids: set[int]) -> dict[int, Chain]:
        """The chain of each area, asking the database (a level at a time) only for areas not
        cached."""
        areas: Hierarchy = {}
        wanted = set(area_ids)
        while wanted:
            areas.update(self._areas.get_many(wanted, lambda missing: _areas(session, missing)))
            wanted = {row[1] for row in areas.values() if row and row[1] is not None} - areas.keys()
        return {area_id: _chain(areas, area_id) for area_id in area_ids}


def _recipients(
    audience: Audience,
    chain: Chain,
    staff: dict[tuple[int, StaffRole], tuple[Recipient, ...]],
    guardians: dict[int, list[Recipient]],
    named: dict[int, Recipient],
) -> list[Recipient]:
    found: dict[tuple[str, int], Recipient] = {}
    for spec in audience.specs:
        if spec == "guardians":
            people: Iterable[Recipient] = sorted(
                (g for p in set(audience.person_ids) for g in guardians.get(p, ())),
                key=lambda g: g.id,
            )
        else:
            role, _, level = spec.partition("@")
            people = _by_role(staff, StaffRole(role), AreaLevel(level) if level else None, chain)
        for recipient in people:
            found.setdefault((recipient.type, recipient.id), recipient)
    for staff_id in audience.staff_ids:
        if staff_id in named:
            found.setdefault(("staff", staff_id), named[staff_id])
    return list(found.values())


def _by_role(
    staff: dict[tuple[int, StaffRole], tuple[Recipient, ...]],
    role: StaffRole,
    level: AreaLevel | None,
    chain: Chain,
) -> tuple[Recipient, ...]:
    """Staff with `role` at the given level of the chain, or at the nearest area having any."""
    for area_id, area_level in chain:
        if level is not None and area_level is not level:
            continue
        found = staff[(area_id, role)]
        if found or level is not None:
            return found
    return ()


def _chain(areas: Hierarchy, area_id: int) -> Chain:
    """An area and its ancestors; a missing area ends the chain, and so does one met twice."""
    chain: list[tuple[int, AreaLevel]] = []
    current: int | None = area_id
    while current is not None and (row := areas.get(current)) is not None:
        if any(current == seen for seen, _ in chain):
            break
        chain.append((current, row[0]))
        current = row[1]
    return tuple(chain)


AREAS, STAFF, GUARDIANS, GUARDIANSHIPS = map(table, (Area, Staff, Guardian, Guardianship))
SELECT_AREAS = select(AREAS.c.id, AREAS.c.level, AREAS.c.parent_id).where(
    in_param(AREAS.c.id, "ids")
)
SELECT_STAFF = (
    select(
        STAFF.c.id,
        STAFF.c.name,
        STAFF.c.phone,
        STAFF.c.channels,
        STAFF.c.area_id,
        STAFF.c.role,
    )
    .where(
        in_param(STAFF.c.area_id, "areas"),
        in_param(STAFF.c.role, "roles"),
        STAFF.c.active.is_(True),
    )
    .order_by(STAFF.c.id)
)
SELECT_NAMED_STAFF = select(
    STAFF.c.id, STAFF.c.name, STAFF.c.phone, STAFF.c.channels, STAFF.c.role
).where(in_param(STAFF.c.id, "ids"), STAFF.c.active.is_(True))
SELECT_GUARDIANS = (
    select(
        GUARDIANSHIPS.c.person_id,
        GUARDIANS.c.id,
        GUARDIANS.c.name,
        GUARDIANS.c.phone,
        GUARDIANS.c.channels,
    )
    .join(GUARDIANS, GUARDIANSHIPS.c.guardian_id == GUARDIANS.c.id)
    .where(in_param(GUARDIANSHIPS.c.person_id, "persons"))
    .order_by(GUARDIANS.c.id)
)


def _areas(session: Session, area_ids: list[int]) -> Hierarchy:
    """Each area's level and parent (None: no such area)."""
    found: Hierarchy = dict.fromkeys(area_ids)
    rows = session.execute(SELECT_AREAS, {"ids": area_ids})
    found.update({row.id: (row.level, row.parent_id) for row in rows})
    return found


def _staff(
    session: Session, wanted: list[tuple[int, StaffRole]]
) -> dict[tuple[int, StaffRole], tuple[Recipient, ...]]:
    """Active staff for each (area, role) asked for, in id order (none: an empty tuple)."""
    found: dict[tuple[int, StaffRole], list[Recipient]] = {key: [] for key in wanted}
    rows = session.execute(
        SELECT_STAFF,
        {
            "areas": list({area_id for area_id, _ in wanted}),
            "roles": list({role for _, role in wanted}),
        },
    )
    for row in rows:
        key = (row.area_id, row.role)
        if key in found:
            found[key].append(
                Recipient("staff", row.id, row.name, row.role.value, row.phone, tuple(row.channels))
            )
    return {key: tuple(people) for key, people in found.items()}


def _named_staff(session: Session, staff_ids: set[int]) -> dict[int, Recipient]:
    """Active staff by id (read fresh: a dispatch names whom it names once)."""
    if not staff_ids:
        return {}
    rows = session.execute(SELECT_NAMED_STAFF, {"ids": list(staff_ids)})
    return {
        row.id: Recipient("staff", row.id, row.name, row.role.value, row.phone, tuple(row.channels))
        for row in rows
    }


def _guardians(session: Session, person_ids: set[int]) -> dict[int, list[Recipient]]:
    """Each person's guardians, in id order."""
    if not person_ids:
        return {}
    found: dict[int, list[Recipient]] = {}
    for row in session.execute(SELECT_GUARDIANS, {"persons": list(person_ids)}):
        found.setdefault(row.person_id, []).append(
            Recipient("guardian", row.id, row.name, "guardian", row.phone, tuple(row.channels))
        )
    return found
