"""The 1-3-5 figures on a constructed history with known answers: the shares acknowledged
within 1 minute and with someone on site within 3 and 5, the median time to arrive; in the
API and its CSV export."""

import csv
import io
from datetime import timedelta

import httpx
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.base import utcnow
from records.outbox import OutputStreams
from records.types import AlertStatus as S
from records.types import Severity
from tests.api.builders import GRID_1, GRID_2, Users, bearer, raise_and_move

HISTORY = [
    # grid, severity, (status, seconds after raised), arrival after seconds
    (GRID_1, Severity.CRITICAL, [(S.ACKNOWLEDGED, 30)], 150),  # 1, 3 and 5 minutes kept
    (GRID_1, Severity.CRITICAL, [(S.ACKNOWLEDGED, 90)], 240),  # on site within 5 only
    (GRID_1, Severity.HIGH, [(S.ACKNOWLEDGED, 45)], None),  # nobody on site
    (GRID_1, Severity.HIGH, [(S.ACKNOWLEDGED, 50), (S.RESOLVED, 900)], 400),  # late
    (GRID_2, Severity.HIGH, [(S.FALSE_ALARM, 20)], None),  # not counted: a false alarm
    (GRID_2, Severity.LOW, [(S.ACKNOWLEDGED, 10)], 100),  # not urgent; its arrival counts
]


def build_history(
    sessions: sessionmaker[Session], client: redis.Redis, streams: OutputStreams
) -> None:
    start = utcnow().replace(microsecond=0) - timedelta(days=1)
    for grid, severity, steps, arrival_s in HISTORY:
        arrive = [(None, arrival_s)] if arrival_s is not None else []
        raise_and_move(
            sessions,
            client,
            streams,
            start,
            sorted([*steps, *arrive], key=lambda step: step[1]),
            grid=grid,
            severity=severity,
            person_codes=("P001",) if grid == GRID_1 else ("P002",),
        )


def test_the_1_3_5_shares_and_the_time_to_arrive(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    build_history(sessions, redis_client, streams)
    headers = bearer(context, village.town_officer)
    stats = client.get("/api/stats", params={"group_by": "grid"}, headers=headers).json()
    totals = stats["totals"]
    assert totals["count"] == 6 and totals["urgent"] == 4
    assert totals["ack_within_1m"] == 0.75
    assert totals["on_site_within_3m"] == 0.25 and totals["on_site_within_5m"] == 0.5
    assert totals["arrived"] == 4 and totals["arrival_median_s"] == 195  # 100 150 | 240 400
    grids = {g["key"]: g for g in stats["groups"]}
    assert grids[GRID_1]["urgent"] == 4 and grids[GRID_1]["on_site_within_5m"] == 0.5
    assert grids[GRID_2]["urgent"] == 0 and grids[GRID_2]["ack_within_1m"] is None
    assert grids[GRID_2]["arrival_median_s"] == 100
    critical = client.get(
        "/api/stats", params={"group_by": "grid", "severity": "critical"}, headers=headers
    ).json()["totals"]
    assert critical["urgent"] == 2 and critical["on_site_within_3m"] == 0.5

    export = client.get("/api/stats/csv", params={"group_by": "grid"}, headers=headers)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [r["编码"] for r in rows] == [GRID_1, GRID_2, "all"]
    assert rows[-1]["1分钟确认率"] == "0.75" and rows[-1]["3分钟到场率"] == "0.25"
    assert rows[-1]["5分钟到场率"] == "0.5" and rows[-1]["到场用时中位数（秒）"] == "195.0"
    assert rows[1]["1分钟确认率"] == ""  # nothing urgent to measure in grid 2
    english = client.get(
        "/api/stats/csv",
        params={"group_by": "town", "headers": "en", "encoding": "gbk"},
        headers=headers,
    )
    town, total = csv.DictReader(io.StringIO(english.content.decode("gb18030")))
    assert town["label"] == "灯塔街道" and town["on_site_within_5m"] == total["on_site_within_5m"]
    worker = client.get("/api/stats/csv", headers=bearer(context, village.grid2_worker))
    assert worker.content.decode("utf-8-sig").splitlines()[-1].split(",")[2] == "2"


def test_the_area_filter_counts_one_area_of_the_scope_and_below(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    build_history(sessions, redis_client, streams)
    areas = {a.code: a.id for a in context.areas.all().values()}
    town = bearer(context, village.town_officer)

    def stats(headers: dict[str, str], **params: object) -> httpx.Response:
        return client.get("/api/stats", params={"group_by": "grid", **params}, headers=headers)

    grid = stats(town, area_id=areas[GRID_2]).json()
    assert grid["area"] == GRID_2 and grid["totals"]["count"] == 2
    assert [g["key"] for g in grid["groups"]] == [GRID_2]
    village_wide = stats(town, area_id=areas["520603100201"]).json()  # the village's grids
    assert village_wide["area"] == "520603100201" and village_wide["totals"]["count"] == 6
    assert [g["key"] for g in village_wide["groups"]] == [GRID_1, GRID_2]
    assert stats(town).json()["area"] is None

    export = client.get(
        "/api/stats/csv", params={"group_by": "grid", "area_id": areas[GRID_1]}, headers=town
    )
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [(r["编码"], r["告警数"]) for r in rows] == [(GRID_1, "4"), ("all", "4")]
    assert f'filename="stats-{GRID_1}-grid.csv"' in export.headers["content-disposition"]

    worker = bearer(context, village.grid2_worker)  # grid 2 only
    assert stats(worker, area_id=areas[GRID_2]).json()["totals"]["count"] == 2
    for headers, area_id in ((worker, areas[GRID_1]), (worker, areas["520603100"]), (town, 99999)):
        refused = stats(headers, area_id=area_id)
        assert refused.status_code == 404 and refused.json()["detail"] == f"no area {area_id}"
        csv_refused = client.get("/api/stats/csv", params={"area_id": area_id}, headers=headers)
        assert csv_refused.status_code == 404
    assert stats(bearer(context, village.admin), area_id=99999).status_code == 404
    assert stats(bearer(context, village.li_hong), area_id=areas[GRID_2]).status_code == 404
    assert stats(town, area_id=0).status_code == 422
