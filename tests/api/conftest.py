"""Fixtures of the alert API tests: the API on a migrated database (SQLite and PostgreSQL) with
the example village and a user per role, real Redis with names unique to the test, and a live
server (uvicorn in a thread) for the live feed and the browser tests."""

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.app import create_app
from alert_api.context import AppContext
from alert_api.settings import ApiSettings
from records.outbox import OutputStreams
from tests.api.browsing import chromium
from tests.api.builders import Users, village_users
from tests.records.databases import database_url, engine, sessions
from tests.records.redis_fixtures import REDIS_URL
from tests.records.village import import_village

__all__ = ["chromium", "database_url", "engine", "sessions"]


@pytest.fixture
def prefix() -> Iterator[str]:
    """A Redis key prefix of this test; its streams and timers are deleted afterwards (sign-in
    counters expire by themselves)."""
    value = f"test:api:{uuid.uuid4().hex[:10]}"
    yield value
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(f"{value}:alerts", f"{value}:notifications", f"{value}:rules:escalations")
    client.close()


@pytest.fixture
def settings(database_url: str, prefix: str, tmp_path: Path) -> ApiSettings:
    """Settings of a test API: this test's database, streams and keys."""
    return ApiSettings.load(
        None,
        database={"url": database_url},
        redis={"url": REDIS_URL},
        api={
            "key_prefix": prefix,
            "alerts_stream": f"{prefix}:alerts",
            "notifications_stream": f"{prefix}:notifications",
            "rules_key_prefix": f"{prefix}:rules",
            "snapshot_dir": str(tmp_path / "snapshots"),
            "feed_block_ms": 200,
            "login_max_failures": 3,
            "login_ip_max_failures": 50,
        },
    )


@pytest.fixture
def village(sessions: sessionmaker[Session]) -> Users:
    """The example village (configs/watchlist-*.csv) and a user per role."""
    import_village(sessions)
    return village_users(sessions)


@pytest.fixture
def context(settings: ApiSettings, engine: object, village: Users) -> Iterator[AppContext]:
    """The API's shared state on the migrated village database."""
    built = AppContext.build(settings)
    yield built
    built.close()


@pytest.fixture
def streams(settings: ApiSettings) -> OutputStreams:
    """Where this test's alert changes go."""
    return OutputStreams(
        alerts=settings.api.alerts_stream, notifications=settings.api.notifications_stream
    )


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (see README: test prerequisites)")
    yield client
    client.close()


@pytest.fixture
def app(context: AppContext) -> FastAPI:
    return create_app(context=context)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The API served by uvicorn on a free port; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the test API server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
