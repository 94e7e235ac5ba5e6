"""Fixtures for the notifier tests: both databases, real Redis with names unique per test, the
local push service and webhook receiver, a hand-moved clock."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from notify.metrics import NotifierMetrics
from notify.settings import NotifierSettings
from notify.worker import Notifier
from tests.notify.builders import Clock
from tests.notify.servers import HttpEdge, http_edge
from tests.notify.vendors import Vendors, vendor_server
from tests.records.databases import database_url, engine, sessions
from tests.records.redis_fixtures import REDIS_URL

__all__ = ["database_url", "engine", "sessions"]


@dataclass(frozen=True)
class Names:
    """Redis names of one test."""

    stream: str
    group: str
    deadletter: str
    prefix: str


@pytest.fixture
def names() -> Names:
    uid = uuid.uuid4().hex[:10]
    return Names(
        stream=f"test:{uid}:notifications",
        group=f"notifier-{uid}",
        deadletter=f"test:{uid}:deadletter",
        prefix=f"test:{uid}:notify",
    )


@pytest.fixture
def redis_client(names: Names) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (see README: test prerequisites)")
    yield client
    client.delete(names.stream, names.deadletter, f"{names.prefix}:failures:{names.group}")
    client.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def edge() -> Iterator[HttpEdge]:
    """The push service and webhook receiver (one server, told apart by path)."""
    with http_edge() as server:
        yield server


def settings_for(
    database_url: str, names: Names, sections: dict[str, Any] | None = None, **notify: Any
) -> NotifierSettings:
    """Settings of a test notifier: no jitter, short back-off, immediate reclaim; `sections`
    adds others (`notify_sms`, `notify_robots`…)."""
    section = {
        "stream": names.stream,
        "group": names.group,
        "group_start": "0",
        "consumer": "worker-1",
        "deadletter_stream": names.deadletter,
        "key_prefix": names.prefix,
        "reclaim_idle_ms": 0,
        "reclaim_interval_s": 0.01,
        "timeout_s": 5,
        "lease_s": 30,
        "metrics_port": 0,
        **notify,
    }
    return NotifierSettings(
        database={"url": database_url},
        redis={"url": REDIS_URL},
        notify=section,
        notify_retry={"initial_delay_s": 5, "max_delay_s": 60, "jitter": 0, "max_attempts": 4},
        notify_webpush={"subject": "mailto:ops@shouwang.example", "endpoint_hosts": ["127.0.0.1"]},
        **(sections or {}),
    )


@pytest.fixture
def notifier_for(
    database_url: str, sessions: Any, redis_client: redis.Redis, names: Names, clock: Clock
) -> Iterator[Callable[..., Notifier]]:
    """Make notifiers (`consumer=…` and other `notify` settings, `sections` for other
    sections); drained at the end."""
    made: list[Notifier] = []

    def make(sections: dict[str, Any] | None = None, **notify: Any) -> Notifier:
        settings = settings_for(database_url, names, sections, **notify)
        notifier = Notifier(
            settings, sessions, redis_client, clock=clock, metrics=NotifierMetrics()
        )
        notifier.consumer.ensure_group()
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        notifier.sender.drain()
        notifier.receipts.drain()


@pytest.fixture
def vendors(clock: Clock) -> Iterator[Vendors]:
    """The SMS and voice vendors and the group robots (one server), on the test's clock."""
    with vendor_server(clock) as server:
        yield server
