"""Fixtures for the rules tests: databases (SQLite and PostgreSQL), Redis, the example village,
a clock the test moves, consumers wired to all of them, and the fall alert most tests start
from (and that case, someone on site, moved along by the duty office); helpers to feed, drain
and restart a consumer and to read what it wrote."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import Alert
from records.feed import AlertChange, NotificationJob
from records.lifecycle import acknowledge, change_status, mark_arrival
from records.types import AlertStatus
from rules.config import RulesSettings
from rules.consumer import RulesConsumer
from rules.definitions import RuleSet, load_rules
from shouwang.contracts import EventType
from tests.records.databases import database_url, engine, sessions
from tests.records.redis_fixtures import REDIS_URL, RedisNames, names, redis_client
from tests.records.village import import_village
from tests.rules.builders import NOON, event

__all__ = ["database_url", "engine", "names", "redis_client", "sessions"]

DEFAULT_RULES = Path(__file__).parents[2] / "configs" / "rules.yaml"


class Clock:
    """Wall time the test sets: cooldowns and escalations without sleeping."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def at(self) -> datetime:
        """The clock's time as an aware datetime."""
        return datetime.fromtimestamp(self.now, UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON.timestamp())


@pytest.fixture
def village(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """The example village imported from configs/watchlist-*.csv."""
    import_village(sessions)
    return sessions


@pytest.fixture
def default_rules() -> RuleSet:
    return load_rules(DEFAULT_RULES)


def make_settings(names: RedisNames, database_url: str, **rules: Any) -> RulesSettings:
    """Settings of a test worker: this test's streams and keys, quick reclaims."""
    section: dict[str, Any] = {
        "stream": names.events,
        "deadletter_stream": names.deadletter,
        "alerts_stream": names.streams.alerts,
        "notifications_stream": names.streams.notifications,
        "key_prefix": names.prefix,
        "group_start": "0",
        "consumer": "w1",
        "block_ms": 10,
        "coverage_cache_s": 0,
        "reclaim_interval_s": 0,
        "reclaim_idle_ms": 0,
        "max_failures": 3,
        "file": str(DEFAULT_RULES),
    }
    section.update(rules)
    return RulesSettings.load(
        None, database={"url": database_url}, redis={"url": REDIS_URL}, rules=section
    )


@pytest.fixture
def consumer_for(
    names: RedisNames,
    database_url: str,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    clock: Clock,
    default_rules: RuleSet,
) -> Iterator[Callable[..., RulesConsumer]]:
    """Make consumers on this test's database and streams (default rules, the test's clock)."""

    def make(rules: RuleSet | None = None, **section: Any) -> RulesConsumer:
        settings = make_settings(names, database_url, **section)
        consumer = RulesConsumer(
            settings, rules or default_rules, village, redis_client, clock=clock
        )
        consumer.ensure_group()
        return consumer

    yield make


@pytest.fixture
def consumer(consumer_for: Callable[..., RulesConsumer]) -> RulesConsumer:
    return consumer_for()


@pytest.fixture
def fallen(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> int:
    """The id of a critical elder_fall alert about 王秀英 (guardians 王丽 and 王强), raised at
    the clock's time by `consumer`: ladder 60 s, 180 s, 300 s; someone on site within 3
    minutes."""
    add(redis_client, names, event(EventType.FALL, camera="cam-home-wang"))
    drain(consumer)
    (alert,) = alerts(village)
    return alert.id


class Case:
    """The elder_fall alert about 王秀英, moved along by the duty office on the test's clock."""

    def __init__(
        self, village: sessionmaker[Session], client: redis.Redis, names: RedisNames, clock: Clock
    ) -> None:
        self.village, self.client, self.names, self.clock = village, client, names, clock
        (alert,) = alerts(village)
        self.id, self.version = alert.id, alert.version

    def move(
        self,
        to: AlertStatus,
        note: str = "",
        *,
        assignee_id: int | None = None,
        client: redis.Redis | None = None,
    ) -> None:
        """Change the status (`assignee_id`: whom a dispatch names; `client`: another Redis)."""
        change_status(
            self.village,
            client or self.client,
            self.id,
            to,
            actor="灯塔街道值班室",
            expected_version=self.version,
            note=note,
            assignee_id=assignee_id,
            streams=self.names.streams,
            rules_prefix=self.names.prefix,
            now=self.clock.at(),
        )
        self.version += 1


@pytest.fixture
def case(
    fallen: int,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> Case:
    """The `fallen` alert as a case; someone is on site at once, so the arrival deadline
    tells nobody."""
    found = Case(village, redis_client, names, clock)
    mark_arrival(village, redis_client, fallen, actor="杨秀兰", actor_id=None, now=clock.at())
    return found


def add(client: redis.Redis, names: RedisNames, *entries: dict[str, str]) -> list[str]:
    """Append entries to this test's events stream."""
    return [str(client.xadd(names.events, entry)) for entry in entries]


def drain(consumer: RulesConsumer, rounds: int = 2, *, failures: bool = False) -> None:
    """Poll until a few rounds in a row handle nothing; no entry may fail unless `failures`."""
    idle = 0
    while idle < rounds:
        idle = 0 if consumer.poll(block_ms=0) else idle + 1
    if not failures:
        assert consumer.counts.get("failures", 0) == 0, "an entry failed; see the log"


def restart(
    consumer_for: Callable[..., RulesConsumer], clock: Clock, down_s: float
) -> RulesConsumer:
    """The rules worker was down for `down_s` (its timers stay in Redis): a new one, which
    has handled what came due meanwhile."""
    clock.advance(down_s)
    restarted = consumer_for()
    drain(restarted)
    return restarted


def staff_acknowledge(
    village: sessionmaker[Session],
    client: redis.Redis,
    names: RedisNames,
    alert_id: int,
    now: datetime | None = None,
) -> None:
    """The duty officer acknowledges the new alert (at version 1) through the lifecycle."""
    acknowledge(
        village,
        client,
        alert_id,
        actor="值班员",
        expected_version=1,
        streams=names.streams,
        rules_prefix=names.prefix,
        now=now,
    )


def notified(client: redis.Redis, names: RedisNames, stage: str = "") -> list[NotificationJob]:
    """Every notification job on this test's stream (of a stage starting with `stage`),
    oldest first."""
    found = (NotificationJob.from_fields(f) for _, f in client.xrange(names.streams.notifications))
    return [job for job in found if job.stage.startswith(stage)]


def changes(client: redis.Redis, names: RedisNames) -> list[AlertChange]:
    """Every change on this test's live feed, oldest first."""
    return [AlertChange.from_fields(f) for _, f in client.xrange(names.streams.alerts)]


def alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    """Every alert, oldest first, with persons loaded."""
    with sessions() as session:
        found = list(session.scalars(select(Alert).order_by(Alert.id)))
        for alert in found:
            _ = alert.persons
        return found
