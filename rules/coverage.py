"""Who a camera, zone, sensor or edge watches: the watch-list persons, their households, and
the area that scopes the alert."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from records.people import Coverage, Household, Person, Site
from records.types import Category, SourceKind
from rules.definitions import Kind, WatchlistSpec
from rules.signals import Signal

SOURCE_KINDS = {Kind.EVENT: SourceKind.CAMERA, Kind.SENSOR: SourceKind.SENSOR}


@dataclass(frozen=True, slots=True)
class Ward:
    """A covered watch-list person, with what rules test and alerts show."""

    id: int
    name: str
    category: Category
    risk_level: int
    lives_alone: bool
    conditions: tuple[str, ...]
    household_id: int
    address: str
    area_id: int


@dataclass(frozen=True, slots=True)
class Subjects:
    """What a source watches. `area_id` is the first household's grid, else the site's area."""

    persons: tuple[Ward, ...]
    household_ids: tuple[int, ...]
    area_id: int | None
    address: str = ""


def wards_matching(spec: WatchlistSpec, persons: tuple[Ward, ...]) -> list[Ward]:
    """The persons meeting a rule's watch-list condition."""
    return [
        p
        for p in persons
        if (not spec.categories or p.category in spec.categories)
        and p.risk_level >= spec.min_risk_level
        and (spec.lives_alone is None or p.lives_alone == spec.lives_alone)
        and (not spec.conditions or set(spec.conditions) & set(p.conditions))
    ]


def lookup(session: Session, signal: Signal) -> Subjects:
    """Ask the database who `signal`'s source watches (zone-limited entries count only for
    events in that zone)."""
    source_kind = SOURCE_KINDS.get(signal.kind, SourceKind.EDGE)
    zone_ok: ColumnElement[bool] = Coverage.zone.is_(None)
    if signal.zone:
        zone_ok = or_(zone_ok, Coverage.zone == signal.zone)
    rows = session.execute(
        select(Coverage.household_id, Coverage.person_id).where(
            Coverage.site == signal.site,
            Coverage.source_kind == source_kind,
            Coverage.source == signal.source,
            zone_ok,
        )
    ).all()
    household_ids = sorted({h for h, _ in rows if h is not None})
    person_ids = {p for _, p in rows if p is not None}
    persons: list[Ward] = []
    if household_ids or person_ids:
        query = (
            select(Person, Household)
            .join(Household, Person.household_id == Household.id)
            .where(
                Person.active.is_(True),
                or_(Person.household_id.in_(household_ids), Person.id.in_(person_ids)),
            )
            .order_by(Person.id)
        )
        for person, household in session.execute(query).all():
            persons.append(
                Ward(
                    id=person.id,
                    name=person.name,
                    category=person.category,
                    risk_level=person.risk_level,
                    lives_alone=person.lives_alone,
                    conditions=tuple(person.conditions),
                    household_id=household.id,
                    address=household.address,
                    area_id=household.area_id,
                )
            )
    area_id, address = _place(session, signal.site, household_ids, persons)
    return Subjects(tuple(persons), tuple(household_ids), area_id, address)


def _place(
    session: Session, site: str, household_ids: list[int], persons: list[Ward]
) -> tuple[int | None, str]:
    if household_ids:
        household = session.get(Household, household_ids[0])
        if household is not None:
            return household.area_id, household.address
    if persons:
        return persons[0].area_id, persons[0].address
    return session.scalar(select(Site.area_id).where(Site.code == site)), ""


class CoverageCache:
    """`lookup` results kept for a while: watch lists change rarely, events arrive often."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[tuple[str, str, str, str | None], tuple[float, Subjects]] = {}

    def get(self, session: Session, signal: Signal) -> Subjects:
        """Subjects of `signal`'s source, from the cache when fresh."""
        if self.ttl_s <= 0:
            return lookup(session, signal)
        key = (signal.kind.value, signal.site, signal.source, signal.zone)
        now = self.clock()
        cached = self._entries.get(key)
        if cached and now - cached[0] < self.ttl_s:
            return cached[1]
        subjects = lookup(session, signal)
        if len(self._entries) > 100_000:
            self._entries.clear()
        self._entries[key] = (now, subjects)
        return subjects
