"""Alerts through the API: lists and filters, detail with timeline and snapshot, every
transition with its audit entry, notes, conflicts, the guardians' one tap."""

import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from records.timers import escalation_timers, lifecycle_timers
from records.types import Severity
from tests.api.builders import (
    GRID_1,
    GRID_2,
    JPEG,
    Users,
    bearer,
    last_change,
    raise_alert,
    raise_and_move,
)


def test_list_filters_and_pages(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    fall = raise_alert(sessions, redis_client, streams)
    smoke = raise_alert(
        sessions, redis_client, streams, type_="smoke", severity=Severity.HIGH, title="烟雾"
    )
    child = raise_alert(
        sessions, redis_client, streams, person_codes=("P002",), grid=GRID_2, title="儿童"
    )
    headers = bearer(context, village.county_officer)

    def ids(**params: object) -> list[int]:
        response = client.get("/api/alerts", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["items"]]

    assert ids() == [child, smoke, fall]
    assert ids(type="smoke") == [smoke]
    assert ids(severity="critical") == [child, fall]
    assert ids(status=["acknowledged", "dispatched"]) == []
    areas = {a.code: a.id for a in context.areas.all().values()}
    assert ids(area_id=areas[GRID_2]) == [child]
    assert ids(area_id=areas["520603100"]) == [child, smoke, fall]  # the town and below
    assert ids(since="2000-01-01T00:00:00", until="2000-01-02T00:00:00") == []
    first = client.get("/api/alerts", params={"limit": 2}, headers=headers).json()
    assert [a["id"] for a in first["items"]] == [child, smoke]
    assert ids(before_id=first["next_before_id"]) == [fall]
    assert first["items"][0]["area_name"] == "马岩村第二网格"
    bad = client.get("/api/alerts", params={"type": "x\x00y"}, headers=headers)
    assert bad.status_code == 422


def test_detail_has_persons_timeline_audit_and_a_signed_snapshot(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    snapshots = context.settings.api.snapshot_dir
    alert_id = raise_alert(sessions, redis_client, streams, snapshot_dir=snapshots)
    other = raise_alert(sessions, redis_client, streams, snapshot_dir=snapshots)
    headers = bearer(context, village.grid1_worker)
    detail = client.get(f"/api/alerts/{alert_id}", headers=headers).json()
    assert [p["code"] for p in detail["persons"]] == ["P001"]
    assert detail["persons"][0]["address"] == "马岩村一组12号"
    assert [e["phase"] for e in detail["events"]] == ["start"]
    assert [(t["actor"], t["to_status"]) for t in detail["transitions"]] == [("rules", "new")]
    assert detail["next_statuses"] == ["acknowledged", "false_alarm"]
    url = detail["snapshot_url"]
    assert url and url == detail["events"][0]["snapshot_url"]
    image = client.get(url, headers=headers)
    assert image.status_code == 200 and image.content == JPEG
    assert image.headers["content-type"] == "image/jpeg"
    signature = url.rsplit("/", 1)[1]
    other_url = client.get(f"/api/alerts/{other}", headers=headers).json()["snapshot_url"]
    assert (
        client.get(f"/api/alerts/{other}/snapshots/{signature}", headers=headers).status_code == 404
    )
    assert (
        client.get(f"/api/alerts/{alert_id}/snapshots/{'0' * 32}", headers=headers).status_code
        == 404
    )
    assert client.get(url).status_code == 401  # signed, and still needs a user
    assert client.get(other_url, headers=headers).status_code == 200


def test_snapshot_paths_never_leave_the_snapshot_directory(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
    tmp_path: Path,
) -> None:
    from alert_api.snapshots import snapshot_url
    from records.alerts import Alert

    secret = tmp_path / "secret.jpg"
    secret.write_bytes(JPEG)
    alert_id = raise_alert(sessions, redis_client, streams)
    with sessions.begin() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        alert.snapshot_path = "../secret.jpg"
    url = snapshot_url(context.signer, alert_id, "../secret.jpg")
    assert url is not None
    response = client.get(url, headers=bearer(context, village.admin))
    assert response.status_code == 404


def transition(
    client: TestClient,
    headers: dict[str, str],
    alert_id: int,
    to: str,
    version: int,
    note: str = "",
) -> httpx.Response:
    return client.post(
        f"/api/alerts/{alert_id}/transitions",
        json={"to": to, "version": version, "note": note},
        headers=headers,
    )


def test_every_transition_is_on_the_record(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    officer, worker = bearer(context, village.town_officer), bearer(context, village.grid1_worker)
    steps = [
        (officer, "acknowledged", ""),
        (officer, "dispatched", "已通知网格员"),
        (worker, "resolved", "老人已扶起，无外伤"),
        (worker, "followed_up", "次日回访"),
        (officer, "archived", ""),
    ]
    for version, (headers, to, note) in enumerate(steps, start=1):
        response = transition(client, headers, alert_id, to, version, note)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == to and response.json()["version"] == version + 1
    detail = client.get(f"/api/alerts/{alert_id}", headers=officer).json()
    audit = [
        (t["from_status"], t["to_status"], t["actor"], t["note"]) for t in detail["transitions"]
    ]
    assert audit == [
        (None, "new", "rules", "raised by rule elder_fall"),
        ("new", "acknowledged", "town", ""),
        ("acknowledged", "dispatched", "town", "已通知网格员"),
        ("dispatched", "resolved", "gw1", "老人已扶起，无外伤"),
        ("resolved", "followed_up", "gw1", "次日回访"),
        ("followed_up", "archived", "town", ""),
    ]
    assert detail["next_statuses"] == []
    assert detail["acknowledged_at"] and detail["resolved_at"]


def test_notes_invalid_steps_and_stale_versions(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    headers = bearer(context, village.county_officer)
    no_note = transition(client, headers, alert_id, "false_alarm", 1, "  ")
    assert no_note.status_code == 422 and no_note.json()["code"] == "note_required"
    invalid = transition(client, headers, alert_id, "resolved", 1, "x")
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_transition"
    assert transition(client, headers, alert_id, "false_alarm", 1, "猫").status_code == 200
    stale = transition(client, headers, alert_id, "acknowledged", 1)
    assert stale.status_code == 409
    assert stale.json() == {
        "detail": stale.json()["detail"],
        "code": "version_conflict",
        "current_version": 2,
        "status": "false_alarm",
    }
    missing = transition(client, headers, 999_999, "acknowledged", 1)
    assert missing.status_code == 404
    guardian = transition(client, bearer(context, village.wang_li), alert_id, "archived", 2)
    assert guardian.status_code == 403


def test_two_officers_at_once_one_wins_one_gets_a_conflict(
    live_server: str,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    officers = [bearer(context, village.town_officer), bearer(context, village.county_officer)]
    start = threading.Barrier(2)
    results: list[int] = []

    def act(headers: dict[str, str], to: str) -> None:
        with httpx.Client(base_url=live_server, headers=headers, timeout=30) as http:
            start.wait()
            body = {"to": to, "version": 1, "note": "现场处理"}
            results.append(http.post(f"/api/alerts/{alert_id}/transitions", json=body).status_code)

    threads = [
        threading.Thread(target=act, args=(officers[0], "acknowledged")),
        threading.Thread(target=act, args=(officers[1], "false_alarm")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    with httpx.Client(base_url=live_server, headers=officers[0]) as http:
        detail = http.get(f"/api/alerts/{alert_id}").json()
    assert detail["version"] == 2 and len(detail["transitions"]) == 2


LADDER_DUE_MS = 10**13
"""When the laddered alert's next escalation step is due: long after any test."""


@pytest.fixture
def laddered(
    context: AppContext,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> int:
    """A new alert whose escalation ladder waits for its next step (due at LADDER_DUE_MS)."""
    alert_id = raise_alert(sessions, redis_client, streams)
    prefix = context.settings.api.rules_key_prefix
    escalation_timers(redis_client, prefix).schedule(str(alert_id), LADDER_DUE_MS)
    return alert_id


def test_acknowledging_stops_the_escalation_and_tells_the_feed(
    laddered: int,
    client: TestClient,
    context: AppContext,
    village: Users,
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = laddered
    timers = escalation_timers(redis_client, context.settings.api.rules_key_prefix)
    headers = bearer(context, village.grid1_worker)
    assert transition(client, headers, alert_id, "acknowledged", 1).status_code == 200
    assert redis_client.zscore(timers.key, str(alert_id)) is None
    last = last_change(redis_client, streams)
    assert last[b"change"] == b"transition" and last[b"status"] == b"acknowledged"


def test_a_guardians_on_it_is_a_family_response_and_a_staff_tap_acknowledges(
    laddered: int,
    client: TestClient,
    context: AppContext,
    village: Users,
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = laddered
    prefix = context.settings.api.rules_key_prefix
    first = client.post(f"/api/alerts/{alert_id}/on-it", headers=bearer(context, village.wang_li))
    assert first.status_code == 200
    body = first.json()
    assert body["family_response"] is True and body["acknowledged"] is False
    assert body["alert"]["status"] == "new" and body["alert"]["version"] == 1
    assert body["alert"]["family_response_by"] == "13900000001"
    assert body["alert"]["family_response_at"] is not None
    assert body["alert"]["transitions"][-1]["action"] == "family_response"
    # The ladder runs on; the rules engine is asked to tell the others.
    assert escalation_timers(redis_client, prefix).due_ms(str(alert_id)) == LADDER_DUE_MS
    assert lifecycle_timers(redis_client, prefix).due_ms(str(alert_id)) is not None
    last = last_change(redis_client, streams)
    assert last[b"change"] == b"family_response" and last[b"status"] == b"new"
    again = client.post(f"/api/alerts/{alert_id}/on-it", headers=bearer(context, village.wang_li))
    assert again.json()["family_response"] is False  # recorded once per guardian
    staff = client.post(f"/api/alerts/{alert_id}/on-it", headers=bearer(context, village.admin))
    assert staff.json()["acknowledged"] is True and staff.json()["alert"]["version"] == 2
    assert escalation_timers(redis_client, prefix).due_ms(str(alert_id)) is None
    later = client.post(f"/api/alerts/{alert_id}/on-it", headers=bearer(context, village.admin))
    assert later.json()["acknowledged"] is False and later.json()["alert"]["version"] == 2


def test_staff_mark_arrival_on_site_and_guardians_cannot(
    laddered: int,
    client: TestClient,
    context: AppContext,
    village: Users,
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = laddered
    prefix = context.settings.api.rules_key_prefix
    url = f"/api/alerts/{alert_id}/arrival"
    guardian = client.post(url, json={}, headers=bearer(context, village.wang_li))
    assert guardian.status_code == 403
    worker = bearer(context, village.grid1_worker)
    assert escalation_timers(redis_client, prefix).due_ms(str(alert_id)) == LADDER_DUE_MS
    first = client.post(url, json={"note": "已到王秀英家院门口"}, headers=worker)
    assert first.status_code == 200
    body = first.json()
    assert body["arrived"] is True and body["alert"]["arrived_at"] is not None
    (audit,) = [t for t in body["alert"]["transitions"] if t["action"] == "arrival"]
    assert audit["note"] == "已到王秀英家院门口" and audit["actor"] == body["alert"]["arrived_by"]
    # Someone on site has taken the case: a new alert is acknowledged, its ladder stopped.
    assert body["acknowledged"] is True
    assert body["alert"]["status"] == "acknowledged" and body["alert"]["version"] == 2
    assert body["alert"]["transitions"][-1]["actor"] == audit["actor"]
    assert escalation_timers(redis_client, prefix).due_ms(str(alert_id)) is None
    last = last_change(redis_client, streams)
    assert last[b"change"] == b"transition" and last[b"status"] == b"acknowledged"
    assert client.post(url, json={}, headers=worker).json()["arrived"] is False  # once
    other = client.post(url, json={}, headers=bearer(context, village.town_officer)).json()
    assert other["arrived"] is True and other["alert"]["arrived_by"] == audit["actor"]
    assert other["acknowledged"] is False and other["alert"]["version"] == 2
    outside = client.post(url, json={}, headers=bearer(context, village.grid2_worker))
    assert outside.status_code == 404


def test_a_supervisor_urges_a_case_on_with_a_note(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    url = f"/api/alerts/{alert_id}/urge"
    for user in (village.grid1_worker, village.town_officer, village.wang_li):
        refused = client.post(url, json={"note": "快"}, headers=bearer(context, user))
        assert refused.status_code == 403
    supervisor = bearer(context, village.supervisor)
    assert client.post(url, json={"note": ""}, headers=supervisor).status_code == 422
    urged = client.post(url, json={"note": "十分钟内回报"}, headers=supervisor)
    assert urged.status_code == 200
    body = urged.json()
    assert body["urged_by"] == "sup" and body["status"] == "new" and body["version"] == 1
    assert body["transitions"][-1]["action"] == "urge"
    assert body["transitions"][-1]["note"] == "十分钟内回报"
    prefix = context.settings.api.rules_key_prefix
    assert lifecycle_timers(redis_client, prefix).due_ms(str(alert_id)) is not None  # tell staff
    last = last_change(redis_client, streams)
    assert last[b"change"] == b"urged"
    with sessions.begin() as session:
        from records.alerts import Alert
        from records.types import AlertStatus

        alert = session.get(Alert, alert_id)
        assert alert is not None
        alert.status = AlertStatus.RESOLVED
    closed = client.post(url, json={"note": "再催"}, headers=supervisor)
    assert closed.status_code == 422 and closed.json()["code"] == "invalid_transition"


def test_the_detail_has_the_ledger_and_whom_to_call(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    from records.base import utcnow

    alert_id = raise_alert(sessions, redis_client, streams)
    for user in (village.town_officer, village.wang_li):
        body = client.get(f"/api/alerts/{alert_id}", headers=bearer(context, user)).json()
        (wang,) = body["persons"]
        assert wang["age"] == utcnow().year - 1941 and wang["lives_alone"] is True
        assert wang["conditions"] == ["高血压", "行动不便"]
        assert [(g["name"], g["relation"], g["phone"]) for g in wang["guardians"]] == [
            ("王丽", "女儿", "13900000001"),
            ("王强", "儿子", "13900000002"),
        ]
        assert [(c["role"], c["name"], c["phone"]) for c in body["staff_contacts"]] == [
            ("grid_worker", "杨秀兰", "13800000001"),
            ("duty_officer", "灯塔街道值班室", "08565000001"),  # as imported
        ]


def test_statistics_per_grid_and_day(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    from records.base import utcnow
    from records.types import AlertStatus as S

    start = utcnow().replace(microsecond=0) - timedelta(days=1)
    # grid 1: acknowledged after 60 s and 120 s, one resolved after 600 s; grid 2: false alarm
    plan = [
        (GRID_1, ("P001",), [(S.ACKNOWLEDGED, 60), (S.RESOLVED, 600)]),
        (GRID_1, ("P001",), [(S.ACKNOWLEDGED, 120)]),
        (GRID_2, ("P002",), [(S.FALSE_ALARM, 30)]),
    ]
    for grid, persons, steps in plan:
        raise_and_move(
            sessions, redis_client, streams, start, steps, grid=grid, person_codes=persons
        )
    headers = bearer(context, village.town_officer)
    stats = client.get("/api/stats", params={"group_by": "grid"}, headers=headers).json()
    totals = stats["totals"]
    assert totals["count"] == 3 and totals["false_alarms"] == 1 and totals["open"] == 1
    assert totals["ack_median_s"] == 90 and totals["ack_p90_s"] == 114
    assert totals["resolve_median_s"] == 600 and totals["resolution_rate"] == 0.5
    grids = {g["key"]: g for g in stats["groups"]}
    assert grids[GRID_1]["count"] == 2 and grids[GRID_1]["resolution_rate"] == 0.5
    assert grids[GRID_2]["label"] == "马岩村第二网格" and grids[GRID_2]["resolution_rate"] is None
    days = client.get("/api/stats", params={"group_by": "day"}, headers=headers).json()
    assert len(days["groups"]) in (7, 8) and sum(g["count"] for g in days["groups"]) == 3
    town = client.get("/api/stats", params={"group_by": "town"}, headers=headers).json()
    assert [(g["label"], g["count"]) for g in town["groups"]] == [("灯塔街道", 3)]
    worker = client.get("/api/stats", headers=bearer(context, village.grid2_worker)).json()
    assert worker["totals"]["count"] == 1
    inverted = client.get(
        "/api/stats",
        params={"since": "2026-01-02T00:00:00+08:00", "until": "2026-01-01T00:00:00+08:00"},
        headers=headers,
    )
    assert inverted.status_code == 422
