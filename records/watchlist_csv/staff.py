"""`staff` CSV: grid workers, duty officers, police contacts and supervisors, with their
area."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from records.people import Staff
from records.types import StaffRole
from records.watchlist_csv import cells
from records.watchlist_csv.cells import Cells
from records.watchlist_csv.kinds import Column, CsvKind, area_ids, joined, yes_no

ROLES = {
    **{role.value: role for role in StaffRole},
    **dict.fromkeys(("网格员", "网格长"), StaffRole.GRID_WORKER),
    **dict.fromkeys(("值班员", "值班", "综治中心", "值班人员"), StaffRole.DUTY_OFFICER),
    **dict.fromkeys(("派出所", "民警", "警务"), StaffRole.POLICE),
    **dict.fromkeys(("督办", "督办领导", "分管领导"), StaffRole.SUPERVISOR),
}


@dataclass(frozen=True, slots=True)
class StaffRow:
    code: str
    name: str
    phone: str
    role: StaffRole
    area_code: str
    channels: list[str]
    active: bool


class StaffCsv(CsvKind):
    """Staff by code: a grid worker serves a grid, a duty officer or police a town or county."""

    name = "staff"
    columns = (
        Column("code", "工号", ("编号",), required=True),
        Column("name", "姓名", (), required=True),
        Column("phone", "电话", ("手机", "联系电话")),
        Column("role", "岗位", ("角色",), required=True),
        Column("area_code", "区域编号", ("负责区域", "区划代码"), required=True),
        Column("channels", "通知渠道", ()),
        Column("active", "在岗", ()),
    )

    def load(self) -> None:
        self.areas: dict[str, int] = area_ids(self.session)
        self.seen: dict[str, int] = {}

    def check(self, row: Cells) -> StaffRow | None:
        code = row.get("code", cells.code)
        name = row.get("name", cells.text, required=True)
        phone = row.get("phone", cells.phone, required=False)
        role = row.get("role", cells.choice, ROLES)
        area = row.get("area_code", cells.code)
        channels = row.get("channels", cells.channels)
        active = True if "active" not in self.present else row.get("active", cells.boolean)
        if code and code in self.seen:
            row.fail("code", "duplicate", line=self.seen[code])
        if area and area not in self.areas:
            row.fail("area_code", "no_area")
        if row.errors:
            return None
        self.seen[code] = row.line
        return StaffRow(code, name, phone, role, area, channels, active)

    def apply(self, items: list[StaffRow]) -> tuple[int, int]:
        existing = {s.code: s for s in self.session.scalars(select(Staff))}
        created = updated = 0
        for item in items:
            staff = existing.get(item.code)
            if staff is None:
                staff = existing[item.code] = Staff(code=item.code)
                self.session.add(staff)
                created += 1
            else:
                updated += 1
            staff.name, staff.phone, staff.role = item.name, item.phone, item.role
            staff.area_id, staff.active = self.areas[item.area_code], item.active
            staff.channels = item.channels
        return created, updated

    def export(self) -> Iterable[dict[str, str]]:
        codes = {v: k for k, v in self.areas.items()}
        for staff in self.session.scalars(select(Staff).order_by(Staff.code)):
            yield {
                "code": staff.code,
                "name": staff.name,
                "phone": staff.phone,
                "role": staff.role.value,
                "area_code": codes.get(staff.area_id, ""),
                "channels": joined(staff.channels),
                "active": yes_no(staff.active),
            }
