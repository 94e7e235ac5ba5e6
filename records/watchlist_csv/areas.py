"""`areas` CSV: the administrative hierarchy, county → town → village → grid."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from records.people import Area
from records.types import AreaLevel
from records.watchlist_csv import cells
from records.watchlist_csv.cells import Cells
from records.watchlist_csv.kinds import Column, CsvKind

LEVELS = {
    **{level.value: level for level in AreaLevel},
    **dict.fromkeys(("县", "区", "县区", "市辖区"), AreaLevel.COUNTY),
    **dict.fromkeys(("镇", "乡", "街道", "乡镇"), AreaLevel.TOWN),
    **dict.fromkeys(("村", "社区", "村社区", "居委会"), AreaLevel.VILLAGE),
    **dict.fromkeys(("网格", "组", "村民小组"), AreaLevel.GRID),
}
ORDER = [AreaLevel.COUNTY, AreaLevel.TOWN, AreaLevel.VILLAGE, AreaLevel.GRID]


@dataclass(frozen=True, slots=True)
class AreaRow:
    code: str
    name: str
    level: AreaLevel
    parent_code: str


class AreasCsv(CsvKind):
    """Areas with their parent; a parent must come before its children (or exist already)."""

    name = "areas"
    columns = (
        Column("code", "编号", ("区划代码", "代码"), required=True),
        Column("name", "名称", ("区划名称",), required=True),
        Column("level", "级别", ("层级",), required=True),
        Column("parent_code", "上级编号", ("上级代码",)),
    )

    def load(self) -> None:
        self.levels: dict[str, AreaLevel] = {
            code: level for code, level in self.session.execute(select(Area.code, Area.level))
        }
        self.seen: dict[str, int] = {}

    def check(self, row: Cells) -> AreaRow | None:
        code = row.get("code", cells.code)
        name = row.get("name", cells.text, required=True)
        level = row.get("level", cells.choice, LEVELS)
        parent = row.get("parent_code", cells.code, required=False)
        if code and code in self.seen:
            row.fail("code", "duplicate", line=self.seen[code])
        if level is not None and parent is not None:
            if level is AreaLevel.COUNTY and parent:
                row.fail("parent_code", "county_parent")
            elif level is not AreaLevel.COUNTY and not parent:
                row.fail("parent_code", "needs_parent", level=level.value)
            elif parent and parent not in self.levels:
                row.fail("parent_code", "no_parent")
            elif parent and ORDER.index(self.levels[parent]) >= ORDER.index(level):
                row.fail(
                    "parent_code",
                    "parent_level",
                    parent=self.levels[parent].value,
                    level=level.value,
                )
        if row.errors:
            return None
        self.seen[code] = row.line
        self.levels[code] = level
        return AreaRow(code, name, level, parent or "")

    def apply(self, items: list[AreaRow]) -> tuple[int, int]:
        existing = {a.code: a for a in self.session.scalars(select(Area))}
        created = updated = 0
        for item in items:
            area = existing.get(item.code)
            if area is None:
                area = Area(code=item.code)
                self.session.add(area)
                existing[item.code] = area
                created += 1
            else:
                updated += 1
            area.name, area.level = item.name, item.level
            area.parent = existing[item.parent_code] if item.parent_code else None
        return created, updated

    def export(self) -> Iterable[dict[str, str]]:
        areas = self.session.scalars(select(Area)).all()
        codes = {a.id: a.code for a in areas}
        for area in sorted(areas, key=lambda a: (ORDER.index(a.level), a.code)):
            yield {
                "code": area.code,
                "name": area.name,
                "level": area.level.value,
                "parent_code": codes.get(area.parent_id, "") if area.parent_id else "",
            }
