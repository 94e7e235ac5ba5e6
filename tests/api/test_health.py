"""Health: the public liveness check, and the edges and cameras of the viewer's sites."""

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from alert_api.context import AppContext
from shouwang.redis_keys import EDGES_KEY, edge_key
from tests.api.builders import SITE, Users, bearer


@pytest.fixture
def edges(redis_client: redis.Redis) -> Iterator[tuple[str, str]]:
    """Two edges as ingest records them: one at the village's site, one elsewhere (unique
    names, removed afterwards; the health view reads the shared keys)."""
    edge = f"edge-test-{uuid.uuid4().hex[:8]}"
    elsewhere = f"site-test-{uuid.uuid4().hex[:8]}"
    now_ms = int(time.time() * 1000)
    cameras = {
        "cam-home-wang": {"state": "ok"},  # named in the records (the cameras CSV)
        "cam-yard": {"state": "ok", "name": "院子"},  # named in the edge's config
        "cam-shed": {"state": "ok"},  # named nowhere
    }
    heartbeat = {"fps": 5.0, "queue_depth": 0, "cameras": cameras}
    for site in (SITE, elsewhere):
        redis_client.zadd(EDGES_KEY, {f"{site}/{edge}": now_ms})
        redis_client.hset(
            edge_key(site, edge), mapping={"status": "online", "heartbeat": json.dumps(heartbeat)}
        )
    yield edge, elsewhere
    for site in (SITE, elsewhere):
        redis_client.zrem(EDGES_KEY, f"{site}/{edge}")
        redis_client.delete(edge_key(site, edge))


def test_liveness_needs_no_user(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "database": True, "redis": True}


def test_staff_see_the_edges_of_their_sites(
    client: TestClient, context: AppContext, village: Users, edges: tuple[str, str]
) -> None:
    edge, elsewhere = edges
    worker = client.get("/api/system/health", headers=bearer(context, village.grid2_worker))
    assert worker.status_code == 200
    mine = [e for e in worker.json()["edges"] if e["edge"] == edge]
    assert [(e["site"], e["alive"], e["cameras"]["cam-home-wang"]) for e in mine] == [
        (SITE, True, "ok")
    ]
    assert mine[0]["camera_names"] == {
        "cam-home-wang": "王秀英家堂屋",
        "cam-yard": "院子",
        "cam-shed": "cam-shed",
    }
    assert worker.json()["workers"] is None
    admin = client.get("/api/system/health", headers=bearer(context, village.admin)).json()
    assert {e["site"] for e in admin["edges"] if e["edge"] == edge} == {SITE, elsewhere}
    assert isinstance(admin["workers"], list) and isinstance(admin["streams"], list)
