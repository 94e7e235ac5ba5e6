"""Who a camera, zone, sensor or edge watches: the watch-list persons, their households, and
the area that scopes the alert."""

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
    events in that zone): one query, plus one for the site's area if nobody is covered."""
    source_kind = SOURCE_KINDS.get(signal.kind, SourceKind.EDGE)
    zone_ok: ColumnElement[bool] = Coverage.zone.is_(None)
    if signal.zone:
        zone_ok = or_(zone_ok, Coverage.zone == signal.zone)
    rows = session.execute(
        select(
            Coverage.household_id.label("covered_household"),
            Person.id,
            Person.name,
            Person.category,
            Person.risk_level,
            Person.lives_alone,
            Person.conditions,
            Household.id.label("household_id"),
            Household.address,
            Household.area_id,
        )
        .join(
            Person,
            or_(Person.id == Coverage.person_id, Person.household_id == Coverage.household_id),
        )
        .join(Household, Household.id == Person.household_id)
        .where(
            Coverage.site == signal.site,
            Coverage.source_kind == source_kind,
            Coverage.source == signal.source,
            zone_ok,
            Person.active.is_(True),
        )
        .order_by(Person.id)
    ).all()
    household_ids = sorted({row.covered_household for row in rows if row.covered_household})
    wards: dict[int, Ward] = {}
    for row in rows:
        wards.setdefault(
            row.id,
            Ward(
                id=row.id,
                name=row.name,
                category=row.category,
                risk_level=row.risk_level,
                lives_alone=row.lives_alone,
                conditions=tuple(row.conditions),
                household_id=row.household_id,
                address=row.address,
                area_id=row.area_id,
            ),
        )
    persons = tuple(wards.values())
    for ward in persons:
        if not household_ids or ward.household_id == household_ids[0]:
            return Subjects(persons, tuple(household_ids), ward.area_id, ward.address)
    site_area = session.scalar(select(Site.area_id).where(Site.code == signal.site))
    return Subjects(persons, tuple(household_ids), site_area, "")
