"""`cameras` CSV: GB/T 28181 devices and channels (the device table of camera-native events).

A row without a site gets the one its code's administrative-division prefix points to, when
exactly one site's area code starts with it. Passwords are never exported; an empty password
cell keeps the stored one.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from records.cameras import CameraDevice
from records.people import Area, Site
from records.watchlist_csv import cells
from records.watchlist_csv.cells import CellError, Cells
from records.watchlist_csv.kinds import Column, CsvKind

GB_ID = re.compile(r"[0-9]{20}")


def gb_code(value: str, *, required: bool = True) -> str:
    """A GB/T 28181 code: 20 digits."""
    value = value.strip()
    if not value and not required:
        return ""
    if not GB_ID.fullmatch(value):
        raise CellError("gb_code")
    return value


def suggested_site(code: str, sites_by_area: dict[str, list[str]]) -> str | None:
    """The only site whose area code starts with the code's division prefix (annex E: digits
    1-8 are province, city, county and basic unit; tried with 8, then 6 digits)."""
    for length in (8, 6):
        found = {
            site
            for area, sites in sites_by_area.items()
            if area.startswith(code[:length])
            for site in sites
        }
        if found:
            return found.pop() if len(found) == 1 else None
    return None


@dataclass(frozen=True, slots=True)
class CameraRow:
    code: str
    site: str
    camera: str
    name: str
    password: str
    device: str


class CamerasCsv(CsvKind):
    """GB/T 28181 devices (they register, with a password) and their channels (cameras)."""

    name = "cameras"
    columns = (
        Column("code", "国标编码", ("设备编码", "gb_id"), required=True),
        Column("site", "站点编号", ("站点",)),
        Column("camera", "摄像头编号", ("camera_id",)),
        Column("name", "名称", ("通道名称", "设备名称")),
        Column("password", "注册密码", ("密码",)),
        Column("device", "所属设备", ("parent",)),
    )

    def load(self) -> None:
        self.sites = set(self.session.scalars(select(Site.code)))
        self.by_area: dict[str, list[str]] = {}
        for site, area in self.session.execute(select(Site.code, Area.code).join(Site.area)):
            self.by_area.setdefault(area, []).append(site)
        self.seen: dict[str, int] = {}

    def check(self, row: Cells) -> CameraRow | None:
        code = row.get("code", gb_code)
        site = row.get("site", cells.code, required=False)
        if code and not site:
            site = suggested_site(code, self.by_area) or ""
            if not site:
                row.fail("site", "site_unmatched")
        elif site and site not in self.sites:
            row.fail("site", "no_site")
        camera = row.get("camera", cells.code, required=False)
        name = row.get("name", cells.text)
        password = row.get("password", cells.text)
        device = row.get("device", gb_code, required=False)
        if code and code in self.seen:
            row.fail("code", "duplicate", line=self.seen[code])
        if row.errors:
            return None
        self.seen[code] = row.line
        return CameraRow(code, site, camera, name, password, device)

    def apply(self, items: list[CameraRow]) -> tuple[int, int]:
        existing = {d.code: d for d in self.session.scalars(select(CameraDevice))}
        created = updated = 0
        for item in items:
            device = existing.get(item.code)
            if device is None:
                device = existing[item.code] = CameraDevice(code=item.code)
                self.session.add(device)
                created += 1
            else:
                updated += 1
            device.site = item.site
            device.camera = item.camera or None
            device.name = item.name
            device.device = item.device or None
            if item.password:
                device.password = item.password
        return created, updated

    def export(self) -> Iterable[dict[str, str]]:
        for device in self.session.scalars(select(CameraDevice).order_by(CameraDevice.code)):
            yield {
                "code": device.code,
                "site": device.site,
                "camera": device.camera or "",
                "name": device.name,
                "password": "",
                "device": device.device or "",
            }
