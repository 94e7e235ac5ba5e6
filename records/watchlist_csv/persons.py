"""`persons` CSV: the watch list. One row per elder or child, with their household (code,
address, grid) and the cameras, zones and sensors that cover them or their household."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from records.people import Coverage, Household, Person
from records.types import Category
from records.watchlist_csv import cells
from records.watchlist_csv.cells import Cells, SourceSpec
from records.watchlist_csv.kinds import Column, CsvKind, area_ids, joined, yes_no

CATEGORIES = {
    **{category.value: category for category in Category},
    **dict.fromkeys(("老人", "老年人", "留守老人", "空巢老人", "elderly"), Category.ELDER),
    **dict.fromkeys(("儿童", "留守儿童", "孩子", "未成年人", "kid"), Category.CHILD),
}


@dataclass(slots=True)
class HouseholdRow:
    code: str
    address: str
    grid_code: str
    line: int
    sources: set[SourceSpec] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class PersonRow:
    code: str
    name: str
    category: Category
    birth_year: int | None
    risk_level: int
    lives_alone: bool
    conditions: list[str]
    notes: str
    active: bool
    household_code: str
    sources: list[SourceSpec]


class PersonsCsv(CsvKind):
    """Persons by code, households by code; the file's sources replace the coverage of the
    persons and households it lists (columns left out leave coverage as it is)."""

    name = "persons"
    columns = (
        Column("code", "人员编号", ("编号",), required=True),
        Column("name", "姓名", (), required=True),
        Column("category", "类别", ("人员类别",), required=True),
        Column("birth_year", "出生年份", ("出生年",)),
        Column("risk_level", "风险等级", ()),
        Column("lives_alone", "独居", ("是否独居",)),
        Column("conditions", "健康状况", ("身体状况",)),
        Column("notes", "备注", ()),
        Column("active", "在册", ()),
        Column("household_code", "户编号", ("户号",), required=True),
        Column("address", "地址", ("住址", "家庭住址")),
        Column("grid_code", "网格编号", ("所属网格",), required=True),
        Column("site", "站点编号", ("站点",)),
        Column("person_sources", "本人设备", ("个人设备",)),
        Column("household_sources", "家庭设备", ("户设备",)),
    )

    def load(self) -> None:
        self.areas: dict[str, int] = area_ids(self.session)
        self.seen: dict[str, int] = {}
        self.households: dict[str, HouseholdRow] = {}

    def check(self, row: Cells) -> PersonRow | None:
        code = row.get("code", cells.code)
        name = row.get("name", cells.text, required=True)
        category = row.get("category", cells.choice, CATEGORIES)
        birth_year = row.get("birth_year", cells.birth_year)
        risk = row.get("risk_level", cells.integer, low=1, high=4, default=1)
        lives_alone = row.get("lives_alone", cells.boolean)
        conditions = row.get("conditions", cells.items)
        notes = row.get("notes", cells.text, max_len=1000)
        active = True if "active" not in self.present else row.get("active", cells.boolean)
        household_code = row.get("household_code", cells.code)
        address = row.get("address", cells.text, max_len=300)
        grid = row.get("grid_code", cells.code)
        site = row.get("site", cells.code, required=False) or ""
        own = row.get("person_sources", cells.sources, site)
        shared = row.get("household_sources", cells.sources, site)
        if code and code in self.seen:
            row.fail("code", "duplicate", line=self.seen[code])
        if grid and grid not in self.areas:
            row.fail("grid_code", "no_area")
        household = self.households.get(household_code) if household_code else None
        if household is not None and grid and grid != household.grid_code:
            row.fail(
                "grid_code",
                "household_grid",
                household=household_code,
                grid=household.grid_code,
                line=household.line,
            )
        if household is not None and address and household.address and address != household.address:
            row.fail(
                "address",
                "household_address",
                household=household_code,
                address=household.address,
                line=household.line,
            )
        if row.errors:
            return None
        if household is None:
            household = self.households[household_code] = HouseholdRow(
                household_code, address, grid, row.line
            )
        household.address = household.address or address
        household.sources.update(shared)
        self.seen[code] = row.line
        return PersonRow(
            code,
            name,
            category,
            birth_year,
            risk,
            lives_alone,
            conditions,
            notes,
            active,
            household_code,
            own,
        )

    def apply(self, items: list[PersonRow]) -> tuple[int, int]:
        used = {item.household_code for item in items}
        existing_households = {
            h.code: h
            for h in self.session.scalars(select(Household).where(Household.code.in_(used)))
        }
        for code in sorted(used):
            spec = self.households[code]
            household = existing_households.get(code)
            if household is None:
                household = existing_households[code] = Household(code=code)
                self.session.add(household)
            household.area_id = self.areas[spec.grid_code]
            if spec.address:
                household.address = spec.address
        codes = [item.code for item in items]
        existing = {
            p.code: p for p in self.session.scalars(select(Person).where(Person.code.in_(codes)))
        }
        created = updated = 0
        for item in items:
            person = existing.get(item.code)
            if person is None:
                person = existing[item.code] = Person(code=item.code)
                self.session.add(person)
                created += 1
            else:
                updated += 1
            person.name, person.category, person.birth_year = (
                item.name,
                item.category,
                item.birth_year,
            )
            person.risk_level, person.lives_alone = item.risk_level, item.lives_alone
            person.conditions, person.notes, person.active = (
                item.conditions,
                item.notes,
                item.active,
            )
            person.household = existing_households[item.household_code]
        self.session.flush()
        if "person_sources" in self.present:
            for item in items:
                person_id = existing[item.code].id
                self.session.execute(delete(Coverage).where(Coverage.person_id == person_id))
                self._cover(item.sources, person_id=person_id)
        if "household_sources" in self.present:
            for code in sorted(used):
                household_id = existing_households[code].id
                self.session.execute(delete(Coverage).where(Coverage.household_id == household_id))
                self._cover(self.households[code].sources, household_id=household_id)
        return created, updated

    def _cover(
        self,
        specs: Iterable[SourceSpec],
        *,
        person_id: int | None = None,
        household_id: int | None = None,
    ) -> None:
        for spec in sorted(specs, key=lambda s: (s.site, s.kind, s.source, s.zone or "")):
            self.session.add(
                Coverage(
                    site=spec.site,
                    source_kind=spec.kind,
                    source=spec.source,
                    zone=spec.zone,
                    person_id=person_id,
                    household_id=household_id,
                )
            )

    def export(self) -> Iterable[dict[str, str]]:
        grids = {v: k for k, v in self.areas.items()}
        coverage = self.session.scalars(select(Coverage)).all()
        by_person: dict[int, list[SourceSpec]] = {}
        by_household: dict[int, list[SourceSpec]] = {}
        for c in coverage:
            spec = SourceSpec(c.site, c.source_kind, c.source, c.zone)
            if c.person_id is not None:
                by_person.setdefault(c.person_id, []).append(spec)
            elif c.household_id is not None:
                by_household.setdefault(c.household_id, []).append(spec)
        query = (
            select(Person, Household)
            .join(Household, Person.household_id == Household.id)
            .order_by(Household.code, Person.code)
        )
        for person, household in self.session.execute(query):
            own = by_person.get(person.id, [])
            shared = by_household.get(household.id, [])
            sites = Counter(spec.site for spec in (*own, *shared))
            site = sites.most_common(1)[0][0] if sites else ""
            yield {
                "code": person.code,
                "name": person.name,
                "category": person.category.value,
                "birth_year": "" if person.birth_year is None else str(person.birth_year),
                "risk_level": str(person.risk_level),
                "lives_alone": yes_no(person.lives_alone),
                "conditions": joined(person.conditions),
                "notes": person.notes,
                "active": yes_no(person.active),
                "household_code": household.code,
                "address": household.address,
                "grid_code": grids.get(household.area_id, ""),
                "site": site,
                "person_sources": joined(spec.render(site) for spec in own),
                "household_sources": joined(spec.render(site) for spec in shared),
            }
