"""The device table: CSV import in UTF-8 and GBK with a per-row report, what the sensor bridge
reads and writes (mappings, the table's version, the unassigned list), and two assignments of
one device at once."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.device_registry import (
    Assignment,
    ListChanged,
    RecordsDeviceDirectory,
    assign_device,
    device_mappings,
    dismiss_unassigned,
    report_unassigned,
    unassigned_devices,
)
from records.devices import SensorDevice
from records.types import DeviceProtocol
from records.watchlist_csv import ImportReport, export_csv, import_csv
from tests.records.village import SITE, example_file, import_village

ZH_HEADER = "协议,设备地址,站点编号,设备编号,类型,型号,安装位置\n"


def _import(sessions: sessionmaker[Session], data: bytes, **options: object) -> ImportReport:
    with sessions.begin() as session:
        return import_csv(session, "devices", data, **options)  # type: ignore[arg-type]


def _devices(sessions: sessionmaker[Session]) -> dict[str, SensorDevice]:
    with sessions() as session:
        return {d.address: d for d in session.scalars(select(SensorDevice))}


def test_example_devices_import_with_chinese_headers_and_kind_names(
    sessions: sessionmaker[Session],
) -> None:
    import_village(sessions)
    found = _devices(sessions)
    door = found["0x00158d0001a2b3c4"]
    assert (door.protocol, door.site, door.device, door.kinds) == (
        DeviceProtocol.ZIGBEE2MQTT,
        SITE,
        "door-wang",
        ["door_contact"],
    )
    assert (door.model, door.location, door.active) == ("Aqara MCCGQ11LM", "堂屋大门", True)
    assert found["wang/bedroom-temperature"].kinds == ["temperature"]
    assert found["binary_sensor.li_gate_door"].protocol is DeviceProtocol.HOMEASSISTANT
    assert {d.kinds[0] for d in found.values()} == {
        "door_contact",
        "motion",
        "sos_button",
        "smoke",
        "water_leak",
        "temperature",
    }


def test_gbk_file_imports_like_utf8_and_rows_are_upserted_by_address(
    sessions: sessionmaker[Session],
) -> None:
    import_village(sessions)
    text = example_file("devices").read_text(encoding="utf-8")
    text = text.replace("0x00158d0001a2b3c4", "0x00158D0001A2B3C4").replace("堂屋大门", "后门")
    report = _import(sessions, text.encode("gbk"))
    assert (report.ok, report.encoding, report.created, report.updated) == (True, "gbk", 0, 7)
    assert _devices(sessions)["0x00158d0001a2b3c4"].location == "后门"  # IEEE kept lower case
    added = ZH_HEADER + f"z2m,0xA4C1380000000042,{SITE},leak-li,漏水;温度,Tuya TS0207,厨房\n"
    report = _import(sessions, added.encode("gbk"))
    assert (report.ok, report.created) == (True, 1)
    assert _devices(sessions)["0xa4c1380000000042"].kinds == ["water_leak", "temperature"]


def test_every_bad_row_is_reported_and_nothing_is_written(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    before = _devices(sessions)
    rows = ZH_HEADER + "".join(
        [
            f"zigbee2mqtt,0x00158d0000000001,{SITE},door-new,门磁,,\n",  # line 2: good
            f"zigbee2mqtt,,{SITE},door-x,门磁,,\n",  # 3: no address
            f"zigbee2mqtt,bad#name,{SITE},door-y,门磁,,\n",  # 4: wildcard in a friendly name
            f"zigbee2mqtt,hall/set,{SITE},door-z,门磁,,\n",  # 5: a command topic
            "zigbee2mqtt,0x00158d0000000002,nowhere,door-a,门磁,,\n",  # 6: unknown site
            f"zigbee2mqtt,0x00158d0000000003,{SITE},door b,门磁,,\n",  # 7: space in the id
            f"zigbee2mqtt,0x00158d0000000004,{SITE},door-c,冰箱,,\n",  # 8: unknown kind
            f"ha,Binary_Sensor.Door,{SITE},door-d,门磁,,\n",  # 9: not an entity id
            f"ha,binary_sensor.multi,{SITE},multi-e,门磁;温度,,\n",  # 10: one state per entity
            f"zigbee2mqtt,0x00158D0000000001,{SITE},door-f,门磁,,\n",  # 11: line 2 again
            f"mqtt,0x00158d0000000005,{SITE},door-g,门磁,,\n",  # 12: unknown protocol
        ]
    )
    report = _import(sessions, rows.encode("utf-8"))
    assert not report.ok and not report.applied
    problems = {(e.line, e.column): e.message for e in report.errors}
    assert problems == {
        (3, "address"): "required",
        (4, "address"): "a friendly name may not hold # or + or end in /set, /get, /availability",
        (5, "address"): "a friendly name may not hold # or + or end in /set, /get, /availability",
        (6, "site"): "no such site (import sites first)",
        (7, "device"): "must be 1-64 letters, digits, _ . - (no spaces)",
        (8, "kinds"): "must be one of door_contact, motion, smoke, sos_button, temperature, "
        "water_leak, water_level",
        (9, "address"): "must be a Home Assistant entity id like binary_sensor.front_door",
        (10, "kinds"): "a Home Assistant entity has one state: give one kind per entity",
        (11, "address"): "already on line 2",
        (12, "protocol"): "must be one of homeassistant, zigbee2mqtt",
    }
    assert "line 8, column kinds: must be one of" in str(report.errors[5])
    assert _devices(sessions).keys() == before.keys()
    skipped = _import(sessions, rows.encode("utf-8"), skip_bad_rows=True)
    assert (skipped.applied, skipped.created, skipped.skipped) == (True, 1, 10)
    assert "0x00158d0000000001" in _devices(sessions)


def test_export_reimports_unchanged_in_both_encodings(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    with sessions() as session:
        utf8 = export_csv(session, "devices")
        gbk = export_csv(session, "devices", encoding="gbk", headers="zh")
    assert gbk.decode("gb18030").startswith("协议,设备地址,站点编号,设备编号,类型")
    for data in (utf8, gbk):
        report = _import(sessions, data)
        assert (report.ok, report.created, report.updated) == (True, 0, 7)


def test_what_the_bridge_reads_and_the_unassigned_list(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    directory = RecordsDeviceDirectory(sessions)
    version = directory.version()
    with sessions() as session:
        assert {m.device for m in device_mappings(session)} >= {"door-wang", "door-li"}
    at = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
    sighting: dict[str, Any] = {
        "protocol": "zigbee2mqtt",
        "address": "0x00158d000ccccccc",
        "reason": "unknown_device",
        "detail": "no device-table row",
        "friendly_name": "0x00158d000ccccccc",
        "model": "Xiaomi RTCGQ11LM",
        "suggested_kinds": ["motion"],
        "payload": '{"occupancy": true}',
    }
    directory.report_unassigned(**sighting, seen_at=at)
    with sessions.begin() as session:
        report_unassigned(session, **sighting, seen_at=at + timedelta(minutes=5))
        report_unassigned(session, **sighting, seen_at=at + timedelta(minutes=1))
    with sessions() as session:
        (listed,) = unassigned_devices(session)
    assert (listed.count, listed.model, listed.suggested_kinds) == (
        3,
        "Xiaomi RTCGQ11LM",
        ["motion"],
    )
    assert (listed.first_seen_at, listed.last_seen_at) == (at, at + timedelta(minutes=5))
    assert directory.version() == version  # the device table itself did not change
    row = f"address,site,device,kinds\n0x00158d000ccccccc,{SITE},motion-new,motion\n"
    assert _import(sessions, row.encode()).applied
    assert directory.version() != version
    with sessions() as session:
        assert unassigned_devices(session) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite serialises
def test_two_staff_assigning_the_same_device_at_once_one_wins(
    sessions: sessionmaker[Session],
) -> None:
    import_village(sessions)
    with sessions.begin() as session:
        report_unassigned(
            session,
            protocol="zigbee2mqtt",
            address="0x00158d000cccccc2",
            reason="unknown_device",
            detail="no device-table row",
            friendly_name="0x00158d000cccccc2",
            model="",
            suggested_kinds=["motion"],
            payload="{}",
            seen_at=datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
        )
    first, second = sessions(), sessions()
    try:
        entries = [unassigned_devices(s)[0] for s in (first, second)]  # both pages show it
        assign_device(
            first, entries[0], Assignment(SITE, "motion-a", ("motion",)), actor="gw1", actor_id=None
        )
        first.commit()
        with pytest.raises(ListChanged):  # the API answers 409
            assign_device(
                second,
                entries[1],
                Assignment(SITE, "motion-b", ("motion",)),
                actor="gw2",
                actor_id=None,
            )
        with pytest.raises(ListChanged):
            dismiss_unassigned(second, entries[1], actor="gw2", actor_id=None)
    finally:
        first.close()
        second.close()
    assert _devices(sessions)["0x00158d000cccccc2"].device == "motion-a"
