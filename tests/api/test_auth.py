"""Signing in: bearer tokens, cookie sessions with CSRF, rate limiting, sign-out, password
changes, disabled users, and guardians joining by invite link."""

import re

from fastapi.testclient import TestClient

from alert_api.context import AppContext
from tests.api.builders import PASSWORD, Users, bearer, cookie_session


def login(client: TestClient, name: str, password: str = PASSWORD) -> int:
    return client.post("/api/auth/login", json={"login": name, "password": password}).status_code


def test_bearer_token_from_login(client: TestClient, village: Users) -> None:
    response = client.post("/api/auth/login", json={"login": "GW1", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["role"] == "grid_worker" and body["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {body['token']}"}
    me = client.get("/api/auth/me", headers=headers).json()
    assert me["login"] == "gw1" and me["scope"]["everything"] is False
    assert len(me["scope"]["area_ids"]) == 1
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_wrong_password_and_unknown_login_look_the_same(client: TestClient, village: Users) -> None:
    wrong = client.post("/api/auth/login", json={"login": "gw1", "password": "nope"})
    unknown = client.post("/api/auth/login", json={"login": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_failed_sign_ins_are_rate_limited_per_login(client: TestClient, village: Users) -> None:
    for _ in range(3):  # login_max_failures is 3 in the tests
        assert login(client, "gw1", "wrong password") == 401
    refused = client.post("/api/auth/login", json={"login": "gw1", "password": PASSWORD})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert login(client, "gw2") == 200  # another login is not held back
    page = client.post(
        "/login",
        data={"login": "gw1", "password": PASSWORD, "form_token": form_token(client)},
        follow_redirects=False,
    )
    assert page.status_code == 429  # the page's sign-in shares the limit


def test_a_success_clears_the_login_counter(client: TestClient, village: Users) -> None:
    for _ in range(2):
        assert login(client, "gw1", "wrong password") == 401
    assert login(client, "gw1") == 200
    for _ in range(2):
        assert login(client, "gw1", "wrong password") == 401
    assert login(client, "gw1") == 200


def form_token(client: TestClient) -> str:
    page = client.get("/login")
    found = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def test_page_sign_in_sets_the_session_cookie(client: TestClient, village: Users) -> None:
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == (
        "/login?next=/dashboard"
    )
    token = form_token(client)
    forged = client.post(
        "/login", data={"login": "town", "password": PASSWORD, "form_token": "x" * 43}
    )
    assert forged.status_code == 403  # login CSRF: the form must carry the cookie's token
    response = client.post(
        "/login",
        data={"login": "town", "password": PASSWORD, "form_token": token, "next": "/watchlist"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/watchlist"
    cookie = response.headers["set-cookie"]
    assert "shouwang_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200 and 'name="csrf-token"' in dashboard.text


def test_redirects_after_sign_in_stay_on_the_site(client: TestClient, village: Users) -> None:
    response = client.post(
        "/login",
        data={
            "login": "town",
            "password": PASSWORD,
            "form_token": form_token(client),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/dashboard"


def test_cookie_sessions_need_the_csrf_token_for_changes(
    client: TestClient, context: AppContext, village: Users
) -> None:
    token, csrf = cookie_session(context, village.admin)
    client.cookies.set("shouwang_session", token)
    new_user = {"login": "gw9", "password": PASSWORD, "role": "admin"}
    assert client.get("/api/auth/me").status_code == 200  # reading needs no token
    missing = client.post("/api/users", json=new_user)
    assert missing.status_code == 403 and "CSRF" in missing.json()["detail"]
    wrong = client.post("/api/users", json=new_user, headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    right = client.post("/api/users", json=new_user, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 201, right.text


def test_bearer_tokens_need_no_csrf_token(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.admin)
    response = client.post(
        "/api/users", json={"login": "a2", "password": PASSWORD, "role": "admin"}, headers=headers
    )
    assert response.status_code == 201


def test_a_bearer_token_is_not_a_cookie_and_back(
    client: TestClient, context: AppContext, village: Users
) -> None:
    header = bearer(context, village.admin)["Authorization"].split()[1]
    client.cookies.set("shouwang_session", header)
    assert client.get("/api/auth/me").status_code == 401
    client.cookies.clear()
    token, _ = cookie_session(context, village.admin)
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_password_change_ends_other_sessions(
    client: TestClient, context: AppContext, village: Users
) -> None:
    first, second = bearer(context, village.grid1_worker), bearer(context, village.grid1_worker)
    short = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=first,
    )
    assert short.status_code == 422
    wrong = client.post(
        "/api/auth/password",
        json={"current_password": "wrong", "new_password": "a new long password"},
        headers=first,
    )
    assert wrong.status_code == 422
    changed = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new long password"},
        headers=first,
    )
    assert changed.status_code == 204
    assert client.get("/api/auth/me", headers=first).status_code == 200
    assert client.get("/api/auth/me", headers=second).status_code == 401
    assert login(client, "gw1", "a new long password") == 200


def test_disabled_users_are_signed_out(
    client: TestClient, context: AppContext, village: Users
) -> None:
    admin, worker = bearer(context, village.admin), bearer(context, village.grid1_worker)
    response = client.patch(
        f"/api/users/{village.grid1_worker}", json={"active": False}, headers=admin
    )
    assert response.status_code == 200 and response.json()["active"] is False
    assert client.get("/api/auth/me", headers=worker).status_code == 401
    assert login(client, "gw1") == 401


def invite(client: TestClient, headers: dict[str, str], guardian_id: int) -> str:
    response = client.post("/api/invites", json={"guardian_id": guardian_id}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["url"])


def test_a_guardian_joins_by_invite_link(
    client: TestClient, context: AppContext, village: Users
) -> None:
    persons = client.get("/api/watchlist/guardians", headers=bearer(context, village.admin)).json()
    wang_qiang = next(g for g in persons if g["phone"] == "13900000002")
    assert wang_qiang["has_account"] is False
    url = invite(client, bearer(context, village.grid1_worker), wang_qiang["id"])
    path = url.removeprefix("http://testserver")
    page = client.get(path)
    assert page.status_code == 200 and "13900000002" in page.text
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token
    form = {"password": "a long password", "password2": "a long password"}
    mismatch = client.post(path, data={**form, "password2": "other", "form_token": token[1]})
    assert mismatch.status_code == 422
    joined = client.post(path, data={**form, "form_token": token[1]}, follow_redirects=False)
    assert joined.status_code == 303 and joined.headers["location"] == "/guardian"
    assert client.get("/guardian").status_code == 200
    me = client.get("/api/auth/me").json()
    assert me["role"] == "guardian" and me["login"] == "13900000002"
    assert client.get(path).status_code == 404  # used once
    assert login(client, "13900000002", "a long password") == 200


def test_staff_invite_only_guardians_of_their_areas(
    client: TestClient, context: AppContext, village: Users
) -> None:
    guardians = client.get("/api/watchlist/guardians", headers=bearer(context, village.admin))
    li_hong = next(g for g in guardians.json() if g["phone"] == "13900000003")
    refused = client.post(
        "/api/invites",
        json={"guardian_id": li_hong["id"]},
        headers=bearer(context, village.grid1_worker),
    )
    assert refused.status_code == 404
    guardian = client.post(
        "/api/invites",
        json={"guardian_id": li_hong["id"]},
        headers=bearer(context, village.li_hong),
    )
    assert guardian.status_code == 403


def test_an_invite_resets_a_guardians_password(
    client: TestClient, context: AppContext, village: Users
) -> None:
    guardians = client.get("/api/watchlist/guardians", headers=bearer(context, village.admin))
    wang_li = next(g for g in guardians.json() if g["phone"] == "13900000001")
    assert wang_li["has_account"] is True
    old_session = bearer(context, village.wang_li)
    path = invite(client, bearer(context, village.admin), wang_li["id"]).removeprefix(
        "http://testserver"
    )
    token = re.search(r'name="form_token" value="([^"]+)"', client.get(path).text)
    assert token
    form = {"password": "new password 1", "password2": "new password 1", "form_token": token[1]}
    assert client.post(path, data=form, follow_redirects=False).status_code == 303
    assert client.get("/api/auth/me", headers=old_session).status_code == 401
    assert login(client, "13900000001", "new password 1") == 200


def test_failed_sign_ins_are_rate_limited_per_address(
    client: TestClient, context: AppContext, village: Users
) -> None:
    context.settings.api.login_ip_max_failures = 4
    for name in ("a1", "a2", "a3", "a4"):  # different names, one address
        assert login(client, name, "guess") == 401
    assert login(client, "gw2") == 429
