"""Role isolation: a guardian sees only alerts about their wards, a grid worker only their grid,
a duty officer their town or county; nobody reaches anything else by any endpoint."""

import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from tests.api.builders import GRID_1, GRID_2, Users, bearer, cookie_session, raise_alert


def alert_endpoints(
    client: TestClient, headers: dict[str, str], alert_id: int, snapshot: str
) -> dict[str, int]:
    """Status of every endpoint naming one alert."""
    calls = {
        "detail": client.get(f"/api/alerts/{alert_id}", headers=headers),
        "snapshot": client.get(snapshot, headers=headers),
        "transition": client.post(
            f"/api/alerts/{alert_id}/transitions",
            json={"to": "acknowledged", "version": 1, "note": ""},
            headers=headers,
        ),
        "on-it": client.post(f"/api/alerts/{alert_id}/on-it", headers=headers),
        "dispatch-candidates": client.get(
            f"/api/alerts/{alert_id}/dispatch-candidates", headers=headers
        ),
    }
    return {name: response.status_code for name, response in calls.items()}


def test_nobody_reaches_an_alert_outside_their_scope(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    snapshots = context.settings.api.snapshot_dir
    wang = raise_alert(sessions, redis_client, streams, snapshot_dir=snapshots)  # P001, grid 1
    admin = bearer(context, village.admin)
    url = client.get(f"/api/alerts/{wang}", headers=admin).json()["snapshot_url"]
    outsiders = {
        "li_hong (guardian of P002/P003)": village.li_hong,
        "gw2 (grid 2)": village.grid2_worker,
    }
    for who, user in outsiders.items():
        headers = bearer(context, user)
        statuses = alert_endpoints(client, headers, wang, url)
        allowed = {404} if "guardian" not in who else {403, 404}
        assert all(code in allowed for code in statuses.values()), (who, statuses)
        assert statuses["detail"] == 404 and statuses["snapshot"] == 404, who
        listed = client.get("/api/alerts", headers=headers).json()["items"]
        assert wang not in [a["id"] for a in listed], who
        assert client.get("/api/stats", headers=headers).json()["totals"]["count"] == 0, who
        token, _ = cookie_session(context, user)
        client.cookies.set("shouwang_session", token)
        assert client.get(f"/alerts/{wang}").status_code == 404, who
        client.cookies.clear()
    with sessions() as session:
        from records.alerts import Alert

        alert = session.get(Alert, wang)
        assert alert is not None and alert.version == 1  # nothing changed it


def test_insiders_see_it(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    wang = raise_alert(sessions, redis_client, streams)
    li = raise_alert(sessions, redis_client, streams, person_codes=("P002",), grid=GRID_2)
    seen = {}
    for name in (
        "admin",
        "county_officer",
        "town_officer",
        "grid1_worker",
        "grid2_worker",
        "wang_li",
        "li_hong",
    ):
        headers = bearer(context, getattr(village, name))
        seen[name] = {a["id"] for a in client.get("/api/alerts", headers=headers).json()["items"]}
    assert seen == {
        "admin": {wang, li},
        "county_officer": {wang, li},
        "town_officer": {wang, li},
        "grid1_worker": {wang},
        "grid2_worker": {li},
        "wang_li": {wang},
        "li_hong": {li},
    }
    guardian_view = client.get(f"/api/alerts/{li}", headers=bearer(context, village.li_hong))
    assert guardian_view.status_code == 200 and guardian_view.json()["next_statuses"] == []


def test_an_area_outside_the_scope_is_no_area_to_the_list_as_to_the_statistics(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    """Filtering by an area one may not see answers 404 (not an empty list, which would say
    it exists and is quiet), the same answer the statistics give."""
    raise_alert(sessions, redis_client, streams)  # grid 1
    areas = {a.code: a.id for a in context.areas.all().values()}
    worker, town = bearer(context, village.grid2_worker), bearer(context, village.town_officer)
    for path in ("/api/alerts", "/api/stats"):
        for headers, area_id in (
            (worker, areas[GRID_1]),
            (worker, areas["520603100"]),
            (town, 99999),
        ):
            refused = client.get(path, params={"area_id": area_id}, headers=headers)
            assert refused.status_code == 404, (path, area_id)
            assert refused.json()["detail"] == f"no area {area_id}"
        guardian = bearer(context, village.li_hong)
        assert (
            client.get(path, params={"area_id": areas[GRID_2]}, headers=guardian).status_code == 404
        )
        assert client.get(path, params={"area_id": areas[GRID_2]}, headers=worker).is_success
    listed = client.get("/api/alerts", params={"area_id": areas[GRID_1]}, headers=town)
    assert len(listed.json()["items"]) == 1


def test_an_alert_is_dispatched_to_the_staff_of_its_area_nearest_first(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    """王秀英's alert (grid 1): her grid worker, then the town's police and duty office, then
    the county's; not grid 2's worker nor the supervisor. Staff who see it get the list, her
    guardian may not dispatch."""
    wang = raise_alert(sessions, redis_client, streams)
    url = f"/api/alerts/{wang}/dispatch-candidates"
    for user in (village.town_officer, village.grid1_worker, village.admin):
        listed = client.get(url, headers=bearer(context, user))
        assert listed.status_code == 200, listed.text
        assert [(c["name"], c["role"], c["area"]) for c in listed.json()] == [
            ("杨秀兰", "grid_worker", "马岩村第一网格"),
            ("灯塔派出所", "police", "灯塔街道"),
            ("灯塔街道值班室", "duty_officer", "灯塔街道"),
            ("碧江区综治中心", "duty_officer", "碧江区"),
        ]
    assert client.get(url, headers=bearer(context, village.wang_li)).status_code == 403
    assert client.get(url, headers=bearer(context, village.grid2_worker)).status_code == 404


def test_guardians_reach_no_watch_list_user_or_health_data(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.li_hong)
    for path in (
        "/api/watchlist/persons",
        "/api/watchlist/households",
        "/api/watchlist/guardians",
        "/api/watchlist/coverage",
        "/api/watchlist/persons/csv",
        "/api/watchlist/guardians/csv",
        "/api/system/health",
        "/api/users",
    ):
        assert client.get(path, headers=headers).status_code == 403, path
    upload = client.post(
        "/api/watchlist/persons/csv", files={"file": ("p.csv", b"code\n")}, headers=headers
    )
    assert upload.status_code == 403
    assert client.post("/api/users", json={}, headers=headers).status_code in (403, 422)
    me = client.get("/api/auth/me", headers=headers).json()
    assert len(me["scope"]["person_ids"]) == 2 and me["scope"]["area_ids"] == []


def test_watch_lists_are_limited_to_the_viewers_areas(
    client: TestClient, context: AppContext, village: Users
) -> None:
    def codes(user: int, path: str, key: str = "code") -> set[str]:
        response = client.get(path, headers=bearer(context, user))
        assert response.status_code == 200, response.text
        return {row[key] for row in response.json()}

    assert codes(village.grid1_worker, "/api/watchlist/persons") == {"P001"}
    assert codes(village.grid2_worker, "/api/watchlist/persons") == {"P002", "P003"}
    assert codes(village.town_officer, "/api/watchlist/persons") == {"P001", "P002", "P003"}
    assert codes(village.grid1_worker, "/api/watchlist/households") == {"H001"}
    assert codes(village.grid1_worker, "/api/watchlist/guardians", "phone") == {
        "13900000001",
        "13900000002",
    }
    assert codes(village.grid1_worker, "/api/watchlist/coverage", "source") == {
        "cam-home-wang",
        "sos-wang",
        "smoke-wang",
        "door-wang",
        "motion-wang",
        "leak-wang",
        "temp-wang",
    }
    export = client.get("/api/watchlist/persons/csv", headers=bearer(context, village.grid1_worker))
    lines = export.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("P001,")
    areas = client.get("/api/watchlist/areas/csv", headers=bearer(context, village.grid1_worker))
    assert areas.status_code == 403


def test_uploads_touching_other_areas_are_refused_whole(
    client: TestClient, context: AppContext, village: Users
) -> None:
    rows = (
        "code,name,category,household_code,grid_code\n"
        "P001,王秀英,elder,H001,520603100201-01\n"
        "P003,李德富,elder,H002,520603100201-02\n"
        "P009,新人,child,H001,520603100201-02\n"
    )
    response = client.post(
        "/api/watchlist/persons/csv",
        files={"file": ("persons.csv", rows.encode())},
        data={"skip_bad_rows": "true"},
        headers=bearer(context, village.grid1_worker),
    )
    assert response.status_code == 422
    report = response.json()
    assert report["applied"] is False
    assert {(e["line"], e["column"]) for e in report["errors"]} == {
        (3, "grid_code"),
        (3, "code"),
        (3, "household_code"),
        (4, "grid_code"),
    }
    persons = client.get("/api/watchlist/persons", headers=bearer(context, village.admin)).json()
    assert "P009" not in {p["code"] for p in persons}
