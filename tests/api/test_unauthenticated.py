"""Every endpoint except sign-in and health refuses callers without a valid session: API
routes with 401, pages by sending to the sign-in page. Routes are enumerated from the app (all
of them, pages included) and from the OpenAPI schema, so a new endpoint cannot slip through."""

import re
from collections.abc import Sequence

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from alert_api.context import AppContext
from tests.api.builders import Users, cookie_session

PUBLIC = {
    ("POST", "/api/auth/login"),
    ("GET", "/api/health"),
    ("GET", "/login"),
    ("POST", "/login"),  # refuses without the form token (login CSRF)
    ("GET", "/"),  # redirects to /login
    ("GET", "/lang/{code}"),  # sets the language cookie, shows nothing
    ("GET", "/join/{token}"),  # the invite link's token is the credential
    ("POST", "/join/{token}"),
    ("GET", "/manifest.webmanifest"),
    ("GET", "/sw.js"),
    ("GET", "/icons/icon-{size}.png"),
}
"""What anyone may call; everything else must refuse."""

EXAMPLES = {"alert_id": "1", "user_id": "1", "kind": "persons", "signature": "0" * 32}


def routes(members: Sequence[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every route, walking into included routers (FastAPI keeps those as
    nested routers with their include prefix)."""
    found = []
    for route in members:
        if isinstance(route, Route):
            methods = sorted(route.methods or ())
            found += [(m, prefix + route.path) for m in methods if m != "HEAD"]
        elif hasattr(route, "original_router"):
            nested = prefix + getattr(route.include_context, "prefix", "")
            found += routes(route.original_router.routes, nested)
        else:
            assert isinstance(route, Mount) and route.path == "/static", route
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: EXAMPLES.get(m.group(1), "x"), path)


def test_every_protected_route_refuses_anonymous_callers(app: FastAPI, client: TestClient) -> None:
    protected = [
        r
        for r in routes(app.routes)
        if r not in PUBLIC and not r[1].startswith(("/docs", "/redoc", "/openapi"))
    ]
    assert len(protected) > 30
    for method, path in protected:
        response = client.request(method, concrete(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"] == "Bearer"
        else:
            assert response.status_code in (303, 401, 405), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login"), (method, path)


def test_every_openapi_operation_but_login_and_health_needs_a_user(
    app: FastAPI, client: TestClient
) -> None:
    schema = client.get("/openapi.json").json()
    operations = [
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    ]
    assert ("GET", "/api/feed") in operations and len(operations) > 25
    for method, path in operations:
        if (method, path) in {("POST", "/api/auth/login"), ("GET", "/api/health")}:
            continue
        response = client.request(method, concrete(path))
        assert response.status_code == 401, (method, path, response.status_code)


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer x", "Basic dXNlcjpwYXNz"])
def test_malformed_credentials_are_refused(client: TestClient, header: str) -> None:
    assert client.get("/api/alerts", headers={"Authorization": header}).status_code in (401, 403)


def test_expired_or_garbage_cookies_are_refused(client: TestClient) -> None:
    client.cookies.set("shouwang_session", "garbage")
    assert client.get("/api/alerts").status_code == 401
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_public_routes_work_without_sign_in(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "database": True, "redis": True}
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["start_url"] == "/guardian" and manifest["display"] == "standalone"
    assert client.get("/sw.js").headers["content-type"].startswith("text/javascript")
    icon = client.get("/icons/icon-192.png")
    assert icon.content.startswith(b"\x89PNG") and icon.headers["content-type"] == "image/png"
    assert client.get("/icons/icon-100.png").status_code == 422
    assert client.get("/join/not-a-token").status_code == 404


def test_pages_send_security_headers(
    client: TestClient, context: AppContext, village: Users
) -> None:
    token, _ = cookie_session(context, village.admin)
    client.cookies.set("shouwang_session", token)
    page = client.get("/dashboard")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
