"""Who a camera, zone, sensor or edge watches: the watch-list persons, their households, and
the area that scopes the alert."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from records.people import Coverage, Household, Person, Site
from records.types import Category, SourceKind
from rules.cache import TtlCache
from rules.definitions import Kind, WatchlistSpec
from rules.signals import Signal
from rules.sql import in_param, table

SOURCE_KINDS = {
    Kind.EVENT: SourceKind.CAMERA,
    Kind.SENSOR: SourceKind.SENSOR,
    Kind.HEALTH: SourceKind.SENSOR,
}
CoverageRow = Row[*tuple[Any, ...]]
"""A coverage row joined with the person and household it covers."""


@dataclass(frozen=True, slots=True)
class Ward:
    """A covered watch-list person, with what rules test and alerts show."""

    id: int
    code: str
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


@dataclass(frozen=True, slots=True)
class Source:
    """Where an entry comes from, as coverage rows name it (the key of cached lookups)."""

    kind: Kind
    site: str
    source: str
    zone: str | None

    @classmethod
    def of(cls, signal: Signal) -> "Source":
        """The source of `signal`."""
        return cls(signal.kind, signal.site, signal.source, signal.zone)

    @property
    def source_kind(self) -> SourceKind:
        """What kind of coverage row maps it."""
        return SOURCE_KINDS.get(self.kind, SourceKind.EDGE)


class Watchers:
    """Who sources watch, and the areas of sites, each kept `ttl_s` seconds (0: always asked)."""

    def __init__(self, ttl_s: float) -> None:
        self._subjects: TtlCache[Source, Subjects] = TtlCache(ttl_s)
        self._site_areas: TtlCache[str, int | None] = TtlCache(ttl_s)

    def subjects(self, session: Session, sources: Iterable[Source]) -> dict[Source, Subjects]:
        """Who each source watches; one query for all that are not cached, plus one for the
        areas of sites whose sources cover nobody."""
        return self._subjects.get_many(sources, lambda missing: self._lookup(session, missing))

    def _lookup(self, session: Session, sources: list[Source]) -> dict[Source, Subjects]:
        covering = _coverage(session, sources)
        site_areas = self._site_areas.get_many(
            {source.site for source, rows in covering.items() if not rows},
            lambda missing: _site_areas(session, missing),
        )
        return {
            source: _subjects(rows, site_areas.get(source.site))
            for source, rows in covering.items()
        }


COVERAGE, PERSONS, HOUSEHOLDS, SITES = map(table, (Coverage, Person, Household, Site))
SELECT_COVERAGE = (
    select(
        COVERAGE.c.source_kind,
        COVERAGE.c.site,
        COVERAGE.c.source,
        COVERAGE.c.zone,
        COVERAGE.c.household_id.label("covered_household"),
        PERSONS.c.id,
        PERSONS.c.code,
        PERSONS.c.name,
        PERSONS.c.category,
        PERSONS.c.risk_level,
        PERSONS.c.lives_alone,
        PERSONS.c.conditions,
        HOUSEHOLDS.c.id.label("household_id"),
        HOUSEHOLDS.c.address,
        HOUSEHOLDS.c.area_id,
    )
    .join(
        PERSONS,
        or_(
            PERSONS.c.id == COVERAGE.c.person_id,
            PERSONS.c.household_id == COVERAGE.c.household_id,
        ),
    )
    .join(HOUSEHOLDS, HOUSEHOLDS.c.id == PERSONS.c.household_id)
    .where(
        in_param(COVERAGE.c.site, "sites"),
        in_param(COVERAGE.c.source, "sources"),
        in_param(COVERAGE.c.source_kind, "kinds"),
        PERSONS.c.active.is_(True),
    )
    .order_by(PERSONS.c.id)
)
SELECT_SITE_AREAS = select(SITES.c.code, SITES.c.area_id).where(in_param(SITES.c.code, "codes"))


def _coverage(session: Session, sources: Collection[Source]) -> dict[Source, list[CoverageRow]]:
    """The coverage rows of each source (zone-limited rows count only for events in that
    zone), joined with the persons they cover, in person id order."""
    rows = session.execute(
        SELECT_COVERAGE,
        {
            "sites": list({s.site for s in sources}),
            "sources": list({s.source for s in sources}),
            "kinds": list({s.source_kind for s in sources}),
        },
    ).all()
    by_source: dict[tuple[SourceKind, str, str], list[CoverageRow]] = {}
    for row in rows:
        by_source.setdefault((row.source_kind, row.site, row.source), []).append(row)
    return {
        source: [
            row
            for row in by_source.get((source.source_kind, source.site, source.source), ())
            if row.zone in (None, source.zone)
        ]
        for source in sources
    }


def _site_areas(session: Session, codes: list[str]) -> dict[str, int | None]:
    found: dict[str, int | None] = dict.fromkeys(codes)
    rows = session.execute(SELECT_SITE_AREAS, {"codes": codes})
    found.update({code: area_id for code, area_id in rows})
    return found


def _subjects(rows: list[CoverageRow], site_area: int | None) -> Subjects:
    """Who a source's coverage rows (persons in id order) watch; the site's area scopes alerts
    about a source that covers nobody."""
    household_ids = sorted({row.covered_household for row in rows if row.covered_household})
    wards: dict[int, Ward] = {}
    for row in rows:
        wards.setdefault(row.id, _ward(row))
    persons = tuple(wards.values())
    for ward in persons:
        if not household_ids or ward.household_id == household_ids[0]:
            return Subjects(persons, tuple(household_ids), ward.area_id, ward.address)
    return Subjects(persons, tuple(household_ids), site_area, "")


SELECT_WARDS = (
    select(
        PERSONS.c.id,
        PERSONS.c.code,
        PERSONS.c.name,
        PERSONS.c.category,
        PERSONS.c.risk_level,
        PERSONS.c.lives_alone,
        PERSONS.c.conditions,
        HOUSEHOLDS.c.id.label("household_id"),
        HOUSEHOLDS.c.address,
        HOUSEHOLDS.c.area_id,
    )
    .join(HOUSEHOLDS, HOUSEHOLDS.c.id == PERSONS.c.household_id)
    .where(in_param(PERSONS.c.id, "ids"), PERSONS.c.active.is_(True))
)


def person_subjects(session: Session, person_id: int) -> Subjects | None:
    """One (active) watch-list person as the subject of an alert about them alone."""
    row = session.execute(SELECT_WARDS, {"ids": [person_id]}).first()
    if row is None:
        return None
    ward = _ward(row)
    return Subjects((ward,), (ward.household_id,), ward.area_id, ward.address)


def _ward(row: CoverageRow) -> Ward:
    return Ward(
        id=row.id,
        code=row.code,
        name=row.name,
        category=row.category,
        risk_level=row.risk_level,
        lives_alone=row.lives_alone,
        conditions=tuple(row.conditions),
        household_id=row.household_id,
        address=row.address,
        area_id=row.area_id,
    )
