"""Sensor devices through the API: the device table, the unassigned list, and staff assigning a
device of a site that serves their area (and no other), by CSV or one by one with an audit row,
or dismissing it."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.device_registry import report_unassigned
from records.devices import UnassignedDevice
from records.people import Coverage, Person
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


def heard(sessions: sessionmaker[Session], address: str, reason: str = "unknown_device") -> int:
    """The bridge lists `address`; its entry's id."""
    with sessions.begin() as session:
        report_unassigned(
            session,
            protocol="zigbee2mqtt",
            address=address,
            reason=reason,
            detail="no device-table row",
            friendly_name=address,
            model="SONOFF SNZB-04",
            suggested_kinds=["door_contact"],
            payload='{"contact": true}',
            seen_at=HEARD,
        )
        return int(session.scalar(select(UnassignedDevice.id).filter_by(address=address)) or 0)


def test_a_grid_worker_assigns_a_device_to_a_person_and_it_is_audited(
    client: TestClient, context: AppContext, village: Users, sessions: sessionmaker[Session]
) -> None:
    entry = heard(sessions, "0x00124b0000000001")
    headers = bearer(context, village.grid1_worker)
    (listed,) = client.get("/api/devices/unassigned", headers=headers).json()
    assert listed["id"] == entry
    body = {"site": SITE, "device": "door-bedroom-wang", "kinds": ["door_contact"]}
    response = client.post(
        f"/api/devices/unassigned/{entry}/assign",
        json=body | {"location": "卧室门", "person": "P001"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json() | {"active": True} == {
        "protocol": "zigbee2mqtt",
        "address": "0x00124b0000000001",
        "site": SITE,
        "device": "door-bedroom-wang",
        "kinds": ["door_contact"],
        "model": "SONOFF SNZB-04",
        "location": "卧室门",
        "active": True,
    }
    assert client.get("/api/devices/unassigned", headers=headers).json() == []
    with sessions() as session:
        covering = session.scalars(
            select(Person.code)
            .join(Coverage, Coverage.person_id == Person.id)
            .where(Coverage.source == "door-bedroom-wang")
        ).all()
    assert covering == ["P001"]
    (audit,) = client.get("/api/devices/assignments", headers=headers).json()
    assert {k: audit[k] for k in ("action", "address", "device", "covers", "previous")} == {
        "action": "assigned",
        "address": "0x00124b0000000001",
        "device": "door-bedroom-wang",
        "covers": "person:P001",
        "previous": "",
    }
    assert audit["actor"] and audit["reason"] == "unknown_device"
    # A device already in the table whose messages were unreadable: reassigning replaces its row.
    again = heard(sessions, "0x00124b0000000001", reason="unreadable")
    response = client.post(
        f"/api/devices/unassigned/{again}/assign",
        json=body | {"kinds": ["motion"]},
        headers=headers,
    )
    assert response.status_code == 200 and response.json()["location"] == "卧室门"
    latest = client.get("/api/devices/assignments", headers=headers).json()[0]
    assert (latest["reason"], latest["previous"]) == (
        "unreadable",
        f"{SITE}/door-bedroom-wang door_contact",
    )


def test_assignments_are_checked_and_scoped(
    client: TestClient, context: AppContext, village: Users, sessions: sessionmaker[Session]
) -> None:
    entry = heard(sessions, "0x00124b0000000002")
    headers = bearer(context, village.grid1_worker)
    url = f"/api/devices/unassigned/{entry}/assign"
    good = {"site": SITE, "device": "door-x", "kinds": ["door_contact"]}
    refused = {
        "kinds": (good | {"kinds": ["doorbell"]}, 422, "kinds"),
        "device-id": (good | {"device": "门 1"}, 422, None),
        "taken": (good | {"device": "door-wang"}, 422, "device"),
        "no-person": (good | {"person": "P999"}, 422, "person"),
        "both": (good | {"person": "P001", "household": "H001"}, 422, "person"),
        "no-site": (good | {"site": "nowhere"}, 403, None),
        "others-person": (good | {"person": "P002"}, 403, None),  # 李小明 lives in grid 2
    }
    for name, (body, code, field) in refused.items():
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == code, (name, response.text)
        if field:
            assert response.json()["detail"]["field"] == field, name
    guardian = bearer(context, village.wang_li)
    assert client.post(url, json=good, headers=guardian).status_code == 403
    assert (
        client.post("/api/devices/unassigned/9999/assign", json=good, headers=headers).status_code
        == 404
    )
    assert client.get("/api/devices/assignments", headers=headers).json() == []
    # Dismissed: off the list, audited; heard again, it is back.
    assert (
        client.post(f"/api/devices/unassigned/{entry}/dismiss", headers=headers).status_code == 204
    )
    assert client.get("/api/devices/unassigned", headers=headers).json() == []
    (audit,) = client.get("/api/devices/assignments", headers=headers).json()
    assert (audit["action"], audit["address"], audit["device"]) == (
        "dismissed",
        "0x00124b0000000002",
        "",
    )
    heard(sessions, "0x00124b0000000002")
    assert len(client.get("/api/devices/unassigned", headers=headers).json()) == 1
