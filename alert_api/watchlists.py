"""Watch-list endpoints: persons (elders and children), households, guardians, and the
cameras, zones and sensors covering them, limited to the viewer's areas."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, selectinload

from alert_api.context import AppContext
from alert_api.params import MAX_ID, Text
from alert_api.scope import Scope
from alert_api.viewer import Context, StaffViewer
from records.people import Coverage, Guardian, Guardianship, Household, Person
from records.queries import area_subtree_ids
from records.types import Category
from records.users import User

router = APIRouter(prefix="/api/watchlist", tags=["watch lists"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
AreaFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="This area and below.")]


class SourceOut(BaseModel):
    """A camera (optionally one zone of it), sensor or edge covering someone."""

    site: str
    source_kind: str
    source: str
    zone: str | None


class GuardianLink(BaseModel):
    """A guardian of a person."""

    id: int
    name: str
    phone: str
    relation: str
    has_account: bool


class PersonRow(BaseModel):
    """A watch-list person."""

    id: int
    code: str
    name: str
    category: Category
    birth_year: int | None
    risk_level: int
    lives_alone: bool
    conditions: list[str]
    notes: str
    active: bool
    household_id: int
    household_code: str
    address: str
    area_id: int
    area_name: str | None
    guardians: list[GuardianLink]
    sources: list[SourceOut]


class Member(BaseModel):
    """A person of a household, or a ward of a guardian."""

    id: int
    code: str
    name: str
    category: Category
    relation: str = ""


class HouseholdRow(BaseModel):
    """A household and who lives there."""

    id: int
    code: str
    address: str
    area_id: int
    area_name: str | None
    persons: list[Member]
    sources: list[SourceOut]


class GuardianRow(BaseModel):
    """A guardian and the wards they look after (in the viewer's areas)."""

    id: int
    name: str
    phone: str
    channels: list[str]
    has_account: bool
    wards: list[Member]


class CoverageRow(BaseModel):
    """What one camera, zone, sensor or edge watches."""

    id: int
    site: str
    source_kind: str
    source: str
    zone: str | None
    household_id: int | None
    household_code: str | None
    address: str | None
    person_id: int | None
    person_name: str | None


def _area_clause(session: Session, scope: Scope, area_id: int | None) -> list[ColumnElement[bool]]:
    clauses = [scope.area_condition(Household.area_id)]
    if area_id is not None:
        clauses.append(Household.area_id.in_(sorted(area_subtree_ids(session, {area_id}))))
    return clauses


def _sources(rows: list[Coverage]) -> list[SourceOut]:
    return [
        SourceOut(site=c.site, source_kind=c.source_kind.value, source=c.source, zone=c.zone)
        for c in rows
    ]


def _coverage_by(session: Session, column: str, ids: list[int]) -> dict[int, list[Coverage]]:
    found: dict[int, list[Coverage]] = {}
    attribute = getattr(Coverage, column)
    for row in session.scalars(select(Coverage).where(attribute.in_(ids)).order_by(Coverage.id)):
        found.setdefault(getattr(row, column), []).append(row)
    return found


def _accounts(session: Session, guardian_ids: list[int]) -> set[int]:
    return set(session.scalars(select(User.guardian_id).where(User.guardian_id.in_(guardian_ids))))


def list_persons(
    context: AppContext,
    scope: Scope,
    *,
    area_id: int | None = None,
    category: Category | None = None,
    q: str = "",
    limit: int = 200,
    offset: int = 0,
) -> list[PersonRow]:
    """Persons in the viewer's areas, by household and code."""
    with context.reads() as session:
        query = (
            select(Person)
            .join(Household, Person.household_id == Household.id)
            .options(
                selectinload(Person.household),
                selectinload(Person.guardianships).selectinload(Guardianship.guardian),
            )
            .where(*_area_clause(session, scope, area_id))
            .order_by(Household.code, Person.code)
            .limit(limit)
            .offset(offset)
        )
        if category is not None:
            query = query.where(Person.category == category)
        if q.strip():
            pattern = f"%{q.strip()}%"
            by_guardian = (
                select(Guardianship.person_id)
                .join(Guardian, Guardianship.guardian_id == Guardian.id)
                .where(or_(Guardian.phone.like(pattern), Guardian.name.like(pattern)))
            )
            query = query.where(
                or_(
                    Person.name.like(pattern),
                    Person.code.like(pattern),
                    Household.address.like(pattern),
                    Person.id.in_(by_guardian),
                )
            )
        persons = list(session.scalars(query))
        own = _coverage_by(session, "person_id", [p.id for p in persons])
        shared = _coverage_by(session, "household_id", [p.household_id for p in persons])
        accounts = _accounts(session, [g.guardian_id for p in persons for g in p.guardianships])
        return [
            PersonRow(
                id=p.id,
                code=p.code,
                name=p.name,
                category=p.category,
                birth_year=p.birth_year,
                risk_level=p.risk_level,
                lives_alone=p.lives_alone,
                conditions=p.conditions,
                notes=p.notes,
                active=p.active,
                household_id=p.household_id,
                household_code=p.household.code,
                address=p.household.address,
                area_id=p.household.area_id,
                area_name=context.areas.name(p.household.area_id),
                guardians=[
                    GuardianLink(
                        id=g.guardian.id,
                        name=g.guardian.name,
                        phone=g.guardian.phone,
                        relation=g.relation,
                        has_account=g.guardian.id in accounts,
                    )
                    for g in p.guardianships
                ],
                sources=_sources(own.get(p.id, []) + shared.get(p.household_id, [])),
            )
            for p in persons
        ]


def list_households(
    context: AppContext,
    scope: Scope,
    *,
    area_id: int | None = None,
    q: str = "",
    limit: int = 200,
    offset: int = 0,
) -> list[HouseholdRow]:
    """Households in the viewer's areas, by code; `q`: part of the address, the code or a
    member's name."""
    with context.reads() as session:
        query = (
            select(Household)
            .options(selectinload(Household.persons))
            .where(*_area_clause(session, scope, area_id))
            .order_by(Household.code)
            .limit(limit)
            .offset(offset)
        )
        if q.strip():
            pattern = f"%{q.strip()}%"
            members = select(Person.household_id).where(Person.name.like(pattern))
            query = query.where(
                or_(
                    Household.address.like(pattern),
                    Household.code.like(pattern),
                    Household.id.in_(members),
                )
            )
        households = list(session.scalars(query))
        coverage = _coverage_by(session, "household_id", [h.id for h in households])
        return [
            HouseholdRow(
                id=h.id,
                code=h.code,
                address=h.address,
                area_id=h.area_id,
                area_name=context.areas.name(h.area_id),
                persons=[
                    Member(id=p.id, code=p.code, name=p.name, category=p.category)
                    for p in sorted(h.persons, key=lambda p: p.code)
                ],
                sources=_sources(coverage.get(h.id, [])),
            )
            for h in households
        ]


def list_guardians(
    context: AppContext, scope: Scope, *, q: str = "", limit: int = 200, offset: int = 0
) -> list[GuardianRow]:
    """Guardians of wards in the viewer's areas (only those wards are listed); `q`: part of
    the guardian's name or phone number, or of a ward's name."""
    with context.reads() as session:
        query = (
            select(Guardianship, Person)
            .join(Person, Guardianship.person_id == Person.id)
            .join(Household, Person.household_id == Household.id)
            .where(scope.area_condition(Household.area_id))
            .order_by(Guardianship.guardian_id, Person.code)
        )
        if q.strip():
            pattern = f"%{q.strip()}%"
            found = (
                select(Guardianship.guardian_id)
                .join(Guardian, Guardianship.guardian_id == Guardian.id)
                .join(Person, Guardianship.person_id == Person.id)
                .where(
                    or_(
                        Guardian.name.like(pattern),
                        Guardian.phone.like(pattern),
                        Person.name.like(pattern),
                    )
                )
            )
            query = query.where(Guardianship.guardian_id.in_(found))
        links = session.execute(query)
        wards: dict[int, list[Member]] = {}
        for link, person in links:
            wards.setdefault(link.guardian_id, []).append(
                Member(
                    id=person.id,
                    code=person.code,
                    name=person.name,
                    category=person.category,
                    relation=link.relation,
                )
            )
        ids = sorted(wards)[offset : offset + limit]
        guardians = session.scalars(
            select(Guardian).where(Guardian.id.in_(ids)).order_by(Guardian.id)
        )
        accounts = _accounts(session, ids)
        return [
            GuardianRow(
                id=g.id,
                name=g.name,
                phone=g.phone,
                channels=g.channels,
                has_account=g.id in accounts,
                wards=wards[g.id],
            )
            for g in guardians
        ]


def list_coverage(
    context: AppContext, scope: Scope, *, limit: int = 500, offset: int = 0
) -> list[CoverageRow]:
    """Cameras, zones, sensors and edges covering households and persons in the viewer's areas."""
    with context.reads() as session:
        covered_person = (
            select(Person.id)
            .join(Household, Person.household_id == Household.id)
            .where(scope.area_condition(Household.area_id))
        )
        covered_household = select(Household.id).where(scope.area_condition(Household.area_id))
        rows = session.scalars(
            select(Coverage)
            .where(
                or_(
                    Coverage.household_id.in_(covered_household),
                    Coverage.person_id.in_(covered_person),
                )
            )
            .order_by(Coverage.site, Coverage.source, Coverage.zone, Coverage.id)
            .limit(limit)
            .offset(offset)
        ).all()
        households = {
            h.id: h
            for h in session.scalars(
                select(Household).where(
                    Household.id.in_([r.household_id for r in rows if r.household_id])
                )
            )
        }
        persons = {
            p.id: p
            for p in session.scalars(
                select(Person).where(Person.id.in_([r.person_id for r in rows if r.person_id]))
            )
        }
        return [
            CoverageRow(
                id=r.id,
                site=r.site,
                source_kind=r.source_kind.value,
                source=r.source,
                zone=r.zone,
                household_id=r.household_id,
                household_code=households[r.household_id].code if r.household_id else None,
                address=households[r.household_id].address if r.household_id else None,
                person_id=r.person_id,
                person_name=persons[r.person_id].name if r.person_id else None,
            )
            for r in rows
        ]


@router.get("/persons", response_model=list[PersonRow])
def get_persons(
    context: Context,
    viewer: StaffViewer,
    area_id: AreaFilter = None,
    category: Category | None = None,
    q: Annotated[Text, Query(max_length=100, description="Part of a name or code.")] = "",
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[PersonRow]:
    """Watch-list persons with their household, guardians and the sources covering them."""
    return list_persons(
        context, viewer.scope, area_id=area_id, category=category, q=q, limit=limit, offset=offset
    )


@router.get("/households", response_model=list[HouseholdRow])
def get_households(
    context: Context,
    viewer: StaffViewer,
    area_id: AreaFilter = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> list[HouseholdRow]:
    """Households with their persons and the sources covering the home."""
    return list_households(context, viewer.scope, area_id=area_id, limit=limit, offset=offset)


@router.get("/guardians", response_model=list[GuardianRow])
def get_guardians(
    context: Context, viewer: StaffViewer, limit: Limit = 200, offset: Offset = 0
) -> list[GuardianRow]:
    """Guardians, their wards in the viewer's areas, and whether they have joined."""
    return list_guardians(context, viewer.scope, limit=limit, offset=offset)


@router.get("/coverage", response_model=list[CoverageRow])
def get_coverage(
    context: Context, viewer: StaffViewer, limit: Limit = 500, offset: Offset = 0
) -> list[CoverageRow]:
    """Which cameras (and zones), sensors and edges watch whom."""
    return list_coverage(context, viewer.scope, limit=limit, offset=offset)
