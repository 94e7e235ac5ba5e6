"""The loss the worker-kill fault test found, reduced to the rules engine alone: an episode's
`end` decided before its `start` must still reach the alert that the start raises.

Both orders arise in production. Two ingest workers on the shared subscription store a
camera's events out of order when one of them dies with the start in hand (its share comes
back after the other worker stored the end); two rules workers decide a start and its end at
the same time when they fall into different batches. Before the fix (bug 2 in
docs/faults.md) the alert then showed a fall that never ended, and its timeline lacked the end.
"""

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import AlertEvent
from rules.consumer import RulesConsumer
from shouwang.contracts import EventType, Phase
from tests.records.databases import engine, sessions
from tests.records.redis_fixtures import RedisNames, names, redis_client
from tests.rules.builders import NOON, event
from tests.rules.conftest import add, alerts, clock, consumer_for, default_rules, drain, village

__all__ = [
    "clock",
    "consumer_for",
    "default_rules",
    "engine",
    "names",
    "redis_client",
    "sessions",
    "village",
]

pytestmark = pytest.mark.integration


def fall_episode() -> tuple[dict[str, str], dict[str, str]]:
    """The start and end entries of a fall at the elder's home camera (rule `elder_fall`)."""
    episode = str(uuid.uuid4())
    start = event(EventType.FALL, phase=Phase.START, at=NOON, event_id=episode)
    end = event(
        EventType.FALL,
        phase=Phase.END,
        at=NOON + timedelta(seconds=40),
        started_at=NOON,
        episode_id=episode,
    )
    return start, end


def assert_alert_ended(village: sessionmaker[Session]) -> None:
    [alert] = alerts(village)
    with village() as session:
        phases = sorted(session.scalars(select(AlertEvent.phase)))
    assert phases == ["end", "start"], "the end is not on the alert's timeline"
    assert alert.condition_ended_at == NOON + timedelta(seconds=40)


def test_an_end_stored_before_its_start_still_ends_the_alert(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    start, end = fall_episode()
    add(redis_client, names, end, start)
    drain(consumer_for())
    assert_alert_ended(village)


def test_an_end_decided_while_another_worker_holds_its_start(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    start, end = fall_episode()
    add(redis_client, names, start, end)
    first = consumer_for(consumer="first", batch_size=1, reclaim_idle_ms=60_000)
    second = consumer_for(consumer="second", batch_size=1, reclaim_idle_ms=60_000)
    holding = first.read(block_ms=0)  # the start, still being decided
    second.handle(second.read(block_ms=0))  # the end, decided and acknowledged meanwhile
    first.handle(holding)
    drain(first)
    drain(second)
    assert_alert_ended(village)
