"""`devices` CSV: which Zigbee2MQTT or Home Assistant device is which Shouwang sensor."""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, tuple_

from records.devices import SensorDevice, UnassignedDevice
from records.people import Site
from records.types import DeviceProtocol
from records.watchlist_csv import cells
from records.watchlist_csv.cells import CellError, Cells
from records.watchlist_csv.kinds import Column, CsvKind, joined, yes_no
from shouwang.contracts import SensorType

PROTOCOLS = {
    **{protocol.value: protocol for protocol in DeviceProtocol},
    **dict.fromkeys(("z2m", "zigbee", "zigbee 2 mqtt", ""), DeviceProtocol.ZIGBEE2MQTT),
    **dict.fromkeys(("ha", "home assistant", "home-assistant"), DeviceProtocol.HOMEASSISTANT),
}
KINDS = {
    **{kind.value: kind for kind in SensorType},
    **dict.fromkeys(("门磁", "门窗", "门窗传感器", "门磁传感器"), SensorType.DOOR_CONTACT),
    **dict.fromkeys(("人体感应", "人体传感器", "人体红外", "红外", "移动"), SensorType.MOTION),
    **dict.fromkeys(
        ("紧急按钮", "一键求助", "求助按钮", "sos", "sos按钮", "按钮"), SensorType.SOS_BUTTON
    ),
    **dict.fromkeys(("烟感", "烟雾", "烟雾报警器"), SensorType.SMOKE),
    **dict.fromkeys(("水浸", "漏水", "水浸传感器"), SensorType.WATER_LEAK),
    **dict.fromkeys(("水位", "水位计"), SensorType.WATER_LEVEL),
    **dict.fromkeys(("温度", "温湿度", "温度传感器"), SensorType.TEMPERATURE),
}
IEEE = re.compile(r"^0x[0-9a-fA-F]{16}$")
ENTITY = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")


@dataclass(frozen=True, slots=True)
class DeviceRow:
    protocol: DeviceProtocol
    address: str
    site: str
    device: str
    kinds: list[str]
    model: str
    location: str
    active: bool


def address(value: str, protocol: DeviceProtocol) -> str:
    """A device's address: an IEEE address (kept in lower case) or a Zigbee2MQTT friendly name,
    or a Home Assistant entity id."""
    value = value.strip()
    if not value:
        raise CellError("required")
    if protocol is DeviceProtocol.HOMEASSISTANT:
        if not ENTITY.fullmatch(value):
            raise CellError("ha_entity")
        return value
    if IEEE.fullmatch(value):
        return value.lower()
    if len(value) > 200 or value.startswith(("/", "bridge/")) or value.endswith("/"):
        raise CellError("z2m_address")
    if any(char in value for char in "#+") or value.endswith(("/set", "/get", "/availability")):
        raise CellError("z2m_name")
    return value


def kinds(value: str) -> list[str]:
    """Sensor kinds, e.g. `door_contact` or 门磁, several separated by ; (a multi-sensor)."""
    found: list[str] = []
    for item in cells.items(value):
        kind = cells.choice(item, KINDS)
        if kind.value not in found:
            found.append(kind.value)
    if not found:
        raise CellError("kinds_required", kinds=", ".join(k.value for k in SensorType))
    return found


class DevicesCsv(CsvKind):
    """Devices by (protocol, address); importing a device removes it from the unassigned list."""

    name = "devices"
    columns = (
        Column("protocol", "协议", ("接入方式",)),
        Column(
            "address",
            "设备地址",
            ("ieee_address", "ieee地址", "friendly_name", "entity_id"),
            required=True,
        ),
        Column("site", "站点编号", ("站点",), required=True),
        Column("device", "设备编号", ("传感器编号",), required=True),
        Column("kinds", "类型", ("传感器类型", "种类"), required=True),
        Column("model", "型号", ()),
        Column("location", "安装位置", ("位置",)),
        Column("active", "在用", ("启用",)),
    )

    def load(self) -> None:
        self.sites: set[str] = set(self.session.scalars(select(Site.code)))
        self.seen: dict[tuple[DeviceProtocol, str], int] = {}

    def check(self, row: Cells) -> DeviceRow | None:
        protocol = row.get("protocol", cells.choice, PROTOCOLS)
        where = row.get("address", address, protocol) if protocol else None
        site = row.get("site", cells.code)
        device = row.get("device", cells.code)
        found = row.get("kinds", kinds)
        model = row.get("model", cells.text)
        location = row.get("location", cells.text)
        active = True if "active" not in self.present else row.get("active", cells.boolean)
        if site and site not in self.sites:
            row.fail("site", "no_site")
        if protocol is DeviceProtocol.HOMEASSISTANT and found and len(found) > 1:
            row.fail("kinds", "ha_one_kind")
        if protocol and where and (protocol, where) in self.seen:
            row.fail("address", "duplicate", line=self.seen[(protocol, where)])
        if row.errors or protocol is None or where is None:
            return None
        self.seen[(protocol, where)] = row.line
        return DeviceRow(protocol, where, site, device, found, model, location, active)

    def apply(self, items: list[DeviceRow]) -> tuple[int, int]:
        existing = {(d.protocol, d.address): d for d in self.session.scalars(select(SensorDevice))}
        created = updated = 0
        for item in items:
            record = existing.get((item.protocol, item.address))
            if record is None:
                record = SensorDevice(protocol=item.protocol, address=item.address)
                self.session.add(record)
                created += 1
            else:
                updated += 1
            record.site, record.device, record.kinds = item.site, item.device, item.kinds
            record.model, record.location, record.active = item.model, item.location, item.active
        if items:
            self.session.execute(
                delete(UnassignedDevice).where(
                    tuple_(UnassignedDevice.protocol, UnassignedDevice.address).in_(
                        [(item.protocol.value, item.address) for item in items]
                    )
                )
            )
        return created, updated

    def export(self) -> Iterable[dict[str, str]]:
        query = select(SensorDevice).order_by(
            SensorDevice.site, SensorDevice.device, SensorDevice.address
        )
        for record in self.session.scalars(query):
            yield {
                "protocol": record.protocol.value,
                "address": record.address,
                "site": record.site,
                "device": record.device,
                "kinds": joined(record.kinds),
                "model": record.model,
                "location": record.location,
                "active": yes_no(record.active),
            }
