"""Who a rule's `notify` names: the guardians of the persons concerned, and staff found by
role up the area hierarchy from the alert's area."""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.people import Area, Guardian, Guardianship, Staff
from records.types import AreaLevel, StaffRole
from rules.cache import TtlCache


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


class Directory:
    """Resolves recipients. The area hierarchy and staff change rarely and are cached for
    `ttl_s`; guardians are always read fresh (they add channels, e.g. Web Push, at any time)."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._chains: TtlCache[int, tuple[tuple[int, AreaLevel], ...]] = TtlCache(ttl_s, clock)
        self._staff: TtlCache[tuple[int, StaffRole], tuple[Recipient, ...]] = TtlCache(ttl_s, clock)

    def resolve(
        self,
        session: Session,
        specs: Iterable[str],
        person_ids: Iterable[int],
        area_id: int | None,
    ) -> list[Recipient]:
        """Recipients for `specs` (validated rule recipients), each once, in the order named."""
        found: dict[tuple[str, int], Recipient] = {}
        persons = sorted(set(person_ids))
        chain = self._chain(session, area_id) if area_id is not None else ()
        for spec in specs:
            if spec == "guardians":
                people = _guardians(session, persons)
            else:
                role, _, level = spec.partition("@")
                people = self._by_role(
                    session, StaffRole(role), AreaLevel(level) if level else None, chain
                )
            for recipient in people:
                found.setdefault((recipient.type, recipient.id), recipient)
        return list(found.values())

    def _chain(self, session: Session, area_id: int) -> tuple[tuple[int, AreaLevel], ...]:
        def load() -> tuple[tuple[int, AreaLevel], ...]:
            chain: list[tuple[int, AreaLevel]] = []
            current: int | None = area_id
            while current is not None and all(current != seen for seen, _ in chain):
                row = session.execute(
                    select(Area.level, Area.parent_id).where(Area.id == current)
                ).one_or_none()
                if row is None:
                    break
                chain.append((current, row.level))
                current = row.parent_id
            return tuple(chain)

        return self._chains.get(area_id, load)

    def _by_role(
        self,
        session: Session,
        role: StaffRole,
        level: AreaLevel | None,
        chain: tuple[tuple[int, AreaLevel], ...],
    ) -> tuple[Recipient, ...]:
        """Staff with `role` at the given level of the chain, or at the nearest area having any."""
        for area_id, area_level in chain:
            if level is not None and area_level is not level:
                continue
            staff = self._staff.get((area_id, role), partial(_staff, session, area_id, role))
            if staff or level is not None:
                return staff
        return ()


def _staff(session: Session, area_id: int, role: StaffRole) -> tuple[Recipient, ...]:
    rows = session.execute(
        select(Staff.id, Staff.name, Staff.phone, Staff.channels)
        .where(Staff.area_id == area_id, Staff.role == role, Staff.active.is_(True))
        .order_by(Staff.id)
    )
    return tuple(
        Recipient("staff", row.id, row.name, role.value, row.phone, tuple(row.channels))
        for row in rows
    )


def _guardians(session: Session, person_ids: list[int]) -> tuple[Recipient, ...]:
    """Guardians of the persons (one looking after two appears twice; `resolve` dedupes)."""
    if not person_ids:
        return ()
    rows = session.execute(
        select(Guardian.id, Guardian.name, Guardian.phone, Guardian.channels)
        .join(Guardianship, Guardianship.guardian_id == Guardian.id)
        .where(Guardianship.person_id.in_(person_ids))
        .order_by(Guardian.id)
    )
    return tuple(
        Recipient("guardian", row.id, row.name, "guardian", row.phone, tuple(row.channels))
        for row in rows
    )
