"""Redis stops before an officer acts and starts again after: the action stands, and once
Redis is back the rules worker's sweep applies what it asked of the timers — the assignee of
a dispatch (派单) is told, an acknowledged alert's ladder is gone. On a Redis of the test's own
(AOF on: a clean restart keeps what it had) and both databases, on the test's clock."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session, sessionmaker

from records.feed import DISPATCH_STAGE
from records.timers import escalation_timers, lifecycle_timers
from records.types import AlertStatus
from rules.consumer import RulesConsumer
from tests.helpers.dispatches import dispatch_job, staff_id
from tests.helpers.redis_server import RedisServer, running_redis
from tests.records.redis_fixtures import RedisNames
from tests.rules.conftest import Case, Clock, drain, notified, staff_acknowledge

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with running_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def redis_client(server: RedisServer) -> Iterator[redis.Redis]:
    """Everyone's client of the test's own Redis (this module's, instead of the shared one's):
    it fails at once while the server is down and connects again once it is back."""
    client = redis.Redis.from_url(
        server.url, decode_responses=True, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 1)
    )
    yield client
    client.close()


def test_a_dispatch_made_while_redis_is_down_tells_the_assignee_once_it_is_back(
    case: Case,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    server: RedisServer,
    clock: Clock,
) -> None:
    case.move(AlertStatus.ACKNOWLEDGED)
    drain(consumer)  # the engine has looked at the acknowledgement
    lifecycle = lifecycle_timers(redis_client, names.prefix)
    waiting = lifecycle.due_ms(str(case.id))
    assert waiting is not None and waiting > clock.now * 1000, "the next deadline"
    yang = staff_id(village, "杨秀兰")

    server.stop()
    case.move(AlertStatus.DISPATCHED, assignee_id=yang)  # committed, logged as not announced
    server.start()

    assert lifecycle.due_ms(str(case.id)) == waiting, "nothing of the dispatch reached Redis"
    assert notified(redis_client, names, DISPATCH_STAGE) == []
    assert consumer.sweep() == 3  # the live-feed change, the ladder's end, the poke
    assert lifecycle.due_ms(str(case.id)) == int(clock.now * 1000)
    drain(consumer)
    assert [job.job_id for job in notified(redis_client, names, DISPATCH_STAGE)] == [
        dispatch_job(village, case.id, yang)
    ]


def test_an_alert_acknowledged_while_redis_is_down_loses_its_ladder_once_it_is_back(
    fallen: int,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    server: RedisServer,
    clock: Clock,
) -> None:
    ladder = escalation_timers(redis_client, names.prefix)
    assert ladder.due_ms(str(fallen)) is not None

    server.stop()
    staff_acknowledge(village, redis_client, names, fallen, clock.at())
    server.start()

    assert ladder.due_ms(str(fallen)) is not None, "the stale timer outlived the outage"
    assert consumer.sweep() == 3
    assert ladder.due_ms(str(fallen)) is None
    clock.advance(600)
    drain(consumer)
    assert [job.stage for job in notified(redis_client, names) if job.step > 0] == []
