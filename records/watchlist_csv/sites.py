"""`sites` CSV: the Shouwang installations (wire `site` ids) and the area each serves."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from records.people import Site
from records.watchlist_csv import cells
from records.watchlist_csv.cells import Cells
from records.watchlist_csv.kinds import Column, CsvKind, area_ids


@dataclass(frozen=True, slots=True)
class SiteRow:
    code: str
    name: str
    area_code: str


class SitesCsv(CsvKind):
    """Sites by code; the area scopes alerts that concern no household (e.g. a road camera)."""

    name = "sites"
    columns = (
        Column("code", "站点编号", ("站点", "site"), required=True),
        Column("name", "名称", ("站点名称",)),
        Column("area_code", "区域编号", ("区划代码",)),
    )

    def load(self) -> None:
        self.areas: dict[str, int] = area_ids(self.session)
        self.seen: dict[str, int] = {}

    def check(self, row: Cells) -> SiteRow | None:
        code = row.get("code", cells.code)
        name = row.get("name", cells.text)
        area = row.get("area_code", cells.code, required=False)
        if code and code in self.seen:
            row.fail("code", "duplicate", line=self.seen[code])
        if area and area not in self.areas:
            row.fail("area_code", "no_area")
        if row.errors:
            return None
        self.seen[code] = row.line
        return SiteRow(code, name, area)

    def apply(self, items: list[SiteRow]) -> tuple[int, int]:
        existing = {s.code: s for s in self.session.scalars(select(Site))}
        created = updated = 0
        for item in items:
            site = existing.get(item.code)
            if site is None:
                site = existing[item.code] = Site(code=item.code)
                self.session.add(site)
                created += 1
            else:
                updated += 1
            site.name = item.name
            site.area_id = self.areas.get(item.area_code) if item.area_code else None
        return created, updated

    def export(self) -> Iterable[dict[str, str]]:
        codes = {v: k for k, v in self.areas.items()}
        for site in self.session.scalars(select(Site).order_by(Site.code)):
            area = codes.get(site.area_id, "") if site.area_id else ""
            yield {"code": site.code, "name": site.name, "area_code": area}
