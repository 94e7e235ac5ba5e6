"""Users: admins create and change them; the links to staff records are checked."""

from fastapi.testclient import TestClient

from alert_api.context import AppContext
from tests.api.builders import PASSWORD, Users, bearer


def test_admins_create_staff_users_linked_to_their_records(
    client: TestClient, context: AppContext, village: Users
) -> None:
    admin = bearer(context, village.admin)
    body = {"login": "yang", "password": PASSWORD, "role": "grid_worker", "staff_code": "gw-001"}
    created = client.post("/api/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["staff_code"] == "gw-001"
    assert created.json()["display_name"] == "杨秀兰"  # from the staff record
    login = client.post("/api/auth/login", json={"login": "yang", "password": PASSWORD})
    assert login.json()["user"]["scope"]["area_ids"]  # the grid
    problems = [
        ({**body, "login": "YANG"}, "taken"),
        ({**body, "login": "y2", "staff_code": None}, "needs staff_code"),
        ({**body, "login": "y3", "staff_code": "duty-town-01"}, "not a grid_worker"),
        ({**body, "login": "y4", "staff_code": "nobody"}, "no staff record"),
        ({**body, "login": "y5", "password": "short"}, "at least 8"),
        ({**body, "login": "y6", "role": "guardian"}, "invite"),
    ]
    for payload, message in problems:
        response = client.post("/api/users", json=payload, headers=admin)
        assert response.status_code == 422, payload
        assert message in response.json()["detail"], (payload, response.json())
    users = client.get("/api/users", headers=admin).json()
    assert {u["login"] for u in users} >= {"admin", "yang", "13900000001"}


def test_only_admins_manage_users(client: TestClient, context: AppContext, village: Users) -> None:
    officer = bearer(context, village.county_officer)
    assert client.get("/api/users", headers=officer).status_code == 403
    body = {"login": "x1", "password": PASSWORD, "role": "admin"}
    assert client.post("/api/users", json=body, headers=officer).status_code == 403
    assert client.patch(f"/api/users/{village.admin}", json={}, headers=officer).status_code == 403


def test_admins_rename_reset_and_cannot_disable_themselves(
    client: TestClient, context: AppContext, village: Users
) -> None:
    admin = bearer(context, village.admin)
    renamed = client.patch(
        f"/api/users/{village.grid2_worker}",
        json={"display_name": "吴建国", "password": "another password"},
        headers=admin,
    )
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "吴建国"
    login = client.post("/api/auth/login", json={"login": "gw2", "password": "another password"})
    assert login.status_code == 200
    itself = client.patch(f"/api/users/{village.admin}", json={"active": False}, headers=admin)
    assert itself.status_code == 422
    assert client.patch("/api/users/99999", json={}, headers=admin).status_code == 404
