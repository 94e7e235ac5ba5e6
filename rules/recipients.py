"""Who a rule's `notify` names: the guardians of the persons concerned, and staff found by
role up the area hierarchy from the alert's area."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.people import Area, Guardian, Guardianship, Staff
from records.queries import area_chain
from records.types import AreaLevel, StaffRole


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


def resolve(
    session: Session, specs: Iterable[str], person_ids: Iterable[int], area_id: int | None
) -> list[Recipient]:
    """Recipients for `specs` (validated rule recipients), each once, in the order named."""
    found: dict[tuple[str, int], Recipient] = {}
    persons = sorted(set(person_ids))
    chain = area_chain(session, area_id) if area_id is not None else []
    for spec in specs:
        if spec == "guardians":
            people = _guardians(session, persons)
        else:
            role, _, level = spec.partition("@")
            people = _staff(session, StaffRole(role), AreaLevel(level) if level else None, chain)
        for recipient in people:
            found.setdefault((recipient.type, recipient.id), recipient)
    return list(found.values())


def _guardians(session: Session, person_ids: list[int]) -> list[Recipient]:
    if not person_ids:
        return []
    guardians = session.scalars(
        select(Guardian)
        .join(Guardianship, Guardianship.guardian_id == Guardian.id)
        .where(Guardianship.person_id.in_(person_ids))
        .order_by(Guardian.id)
    ).unique()
    return [
        Recipient("guardian", g.id, g.name, "guardian", g.phone, tuple(g.channels))
        for g in guardians
    ]


def _staff(
    session: Session, role: StaffRole, level: AreaLevel | None, chain: list[Area]
) -> list[Recipient]:
    """Staff with `role` at the given level of the chain, or at the nearest area having any."""
    for area in chain:
        if level is not None and area.level is not level:
            continue
        staff = session.scalars(
            select(Staff)
            .where(Staff.area_id == area.id, Staff.role == role, Staff.active.is_(True))
            .order_by(Staff.id)
        ).all()
        if staff or level is not None:
            return [
                Recipient("staff", s.id, s.name, s.role.value, s.phone, tuple(s.channels))
                for s in staff
            ]
    return []
