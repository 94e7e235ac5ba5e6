"""Sensor devices through the API: the device table, the unassigned list, and staff assigning a
device of a site that serves their area (and no other)."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.device_registry import report_unassigned
from tests.api.builders import GRID_2, SITE, Users, bearer
from tests.api.test_watchlists import upload

HEARD = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)


def test_staff_see_the_device_table_and_the_unassigned_list(
    client: TestClient, context: AppContext, village: Users, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        report_unassigned(
            session,
            protocol="zigbee2mqtt",
            address="0x00158d000ddddddd",
            reason="unknown_device",
            detail="no device-table row for '0x00158d000ddddddd'",
            friendly_name="0x00158d000ddddddd",
            model="Xiaomi MCCGQ11LM",
            suggested_kinds=["door_contact"],
            payload='{"contact": false}',
            seen_at=HEARD,
        )
    headers = bearer(context, village.grid1_worker)
    table = client.get("/api/devices", headers=headers).json()
    assert {d["device"] for d in table} >= {"door-wang", "motion-wang", "door-li"}
    (heard,) = client.get("/api/devices/unassigned", headers=headers).json()
    assert (heard["address"], heard["model"], heard["suggested_kinds"]) == (
        "0x00158d000ddddddd",
        "Xiaomi MCCGQ11LM",
        ["door_contact"],
    )
    guardian = bearer(context, village.wang_li)
    assert client.get("/api/devices/unassigned", headers=guardian).status_code == 403
    # The grid worker assigns it: a row of a site serving their grid takes it off the list.
    row = f"address,site,device,kinds,location\n0x00158d000ddddddd,{SITE},door-back,门磁,后门\n"
    status, report = upload(client, headers, row, kind="devices")
    assert status == 200 and report["created"] == 1, report
    assert client.get("/api/devices/unassigned", headers=headers).json() == []


def test_staff_cannot_assign_devices_to_sites_not_serving_them(
    client: TestClient, context: AppContext, village: Users
) -> None:
    admin = bearer(context, village.admin)
    status, _ = upload(client, admin, f"code,name,area_code\ngrid2-site,二组,{GRID_2}\n", "sites")
    assert status == 200
    rows = (
        "address,site,device,kinds\n"
        f"0x00158d000eeeeee1,{SITE},door-a,门磁\n"
        "0x00158d000eeeeee2,grid2-site,door-b,门磁\n"
    )
    status, report = upload(client, bearer(context, village.grid1_worker), rows, kind="devices")
    assert status == 422 and report["applied"] is False
    assert [(e["line"], e["column"], e["value"]) for e in report["errors"]] == [  # type: ignore[union-attr]
        (3, "site", "grid2-site")
    ]
    assert upload(client, bearer(context, village.grid2_worker), rows, kind="devices")[0] == 200
    download = client.get(
        "/api/watchlist/devices/csv", headers=bearer(context, village.grid2_worker)
    )
    lines = download.content.decode("utf-8-sig").splitlines()
    assert any("grid2-site" in line for line in lines) and len(lines) > 2
