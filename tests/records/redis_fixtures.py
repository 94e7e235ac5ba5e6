"""Redis for records and rules tests: the real server on 127.0.0.1:6379, names unique per test."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from records.outbox import OutputStreams

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class RedisNames:
    """Stream and key names of one test."""

    prefix: str
    events: str
    deadletter: str
    streams: OutputStreams


@pytest.fixture
def names() -> RedisNames:
    uid = uuid.uuid4().hex[:10]
    prefix = f"test:{uid}"
    return RedisNames(
        prefix=f"{prefix}:rules",
        events=f"{prefix}:events",
        deadletter=f"{prefix}:deadletter",
        streams=OutputStreams(alerts=f"{prefix}:alerts", notifications=f"{prefix}:notifications"),
    )


@pytest.fixture
def redis_client(names: RedisNames) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (see README: test prerequisites)")
    yield client
    rules = [
        f"{names.prefix}:{key}"
        for key in (
            "escalations",
            "lifecycle",
            "holds",
            "holds:data",
            "holds:ended",
            "silences",
            "silences:state",
            "battery",
            "failures:rules",
        )
    ]
    client.delete(
        names.events, names.deadletter, names.streams.alerts, names.streams.notifications, *rules
    )
    client.close()
