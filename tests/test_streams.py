"""The consumer-group worker the rules worker and the notifier share (shouwang/streams.py), on
the real Redis: reclaiming past pending entries that are not idle yet, poison entries, outages
and lost races."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from shouwang.streams import Count, PoisonEntry, StreamConsumer
from tests.records.redis_fixtures import REDIS_URL


@dataclass
class Section:
    stream: str
    deadletter_stream: str
    key_prefix: str
    group: str = "testers"
    group_start: str = "0"
    consumer: str = "survivor"
    batch_size: int = 2
    block_ms: int = 10
    max_failures: int = 3
    reclaim_idle_ms: int = 60_000
    reclaim_interval_s: float = 0.0


class Outage(Exception):
    """Stands for the database being away."""


class LostRace(Outage):
    """Stands for a deadlock with another worker."""


class CountingRedis(redis.Redis):
    """The real client, refusing to go on once XAUTOCLAIM was called more often than `limit`
    (a reclaim loop that never advances would otherwise spin forever)."""

    limit = 50
    autoclaims = 0

    def xautoclaim(self, *args: Any, **kwargs: Any) -> Any:
        self.autoclaims += 1
        if self.autoclaims > self.limit:
            raise AssertionError(f"XAUTOCLAIM called {self.autoclaims} times: reclaim spins")
        return super().xautoclaim(*args, **kwargs)


class Recorder(StreamConsumer[Section, str]):
    """Handles an entry by noting its `value`; values listed in `failing` raise."""

    role = "test"
    outage = (Outage,)

    def __init__(self, section: Section, client: redis.Redis) -> None:
        super().__init__(section, client)
        self.handled: list[str] = []
        self.failing: dict[str, Exception] = {}
        self.counts: dict[str, int] = {}

    def parse(self, entry_id: str, fields: dict[str, str]) -> str:
        if "value" not in fields:
            raise PoisonEntry("entry without a value")
        return fields["value"]

    def commit(self, items: list[tuple[str, str]]) -> None:
        for _, value in items:
            if value in self.failing:
                raise self.failing[value]
        self.handled += [value for _, value in items]

    def lost_race(self, error: Exception) -> bool:
        return isinstance(error, LostRace)

    def counted(self, name: Count, amount: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount


@pytest.fixture
def section() -> Section:
    uid = uuid.uuid4().hex[:10]
    return Section(
        stream=f"test:{uid}:stream",
        deadletter_stream=f"test:{uid}:deadletter",
        key_prefix=f"test:{uid}",
    )


@pytest.fixture
def client(section: Section) -> Iterator[CountingRedis]:
    client = CountingRedis.from_url(REDIS_URL, decode_responses=True)
    yield client
    client.delete(
        section.stream, section.deadletter_stream, f"{section.key_prefix}:failures:testers"
    )
    client.close()


def add(client: redis.Redis, section: Section, *values: str) -> list[str]:
    return [str(client.xadd(section.stream, {"value": value})) for value in values]


def test_reclaim_goes_past_pending_entries_not_yet_idle_to_an_idle_one(
    section: Section, client: CountingRedis
) -> None:
    busy = section.batch_size * 10 + 5  # more than one XAUTOCLAIM scans
    *_, idle_id = add(client, section, *(f"busy-{i}" for i in range(busy)), "idle")
    client.xgroup_create(section.stream, section.group, id="0")
    client.xreadgroup(section.group, "alive", {section.stream: ">"})  # all pending for it
    client.xclaim(section.stream, section.group, "dead", 0, [idle_id], idle=120_000)
    survivor = Recorder(section, client)
    assert survivor.reclaim() == 1
    assert survivor.handled == ["idle"]
    assert 1 < client.autoclaims <= 3
    pending = client.xpending(section.stream, section.group)
    assert pending["pending"] == busy and pending["consumers"] == [
        {"name": "alive", "pending": busy}
    ]


def test_a_poison_entry_is_dead_lettered_at_once_and_the_rest_handled(
    section: Section, client: CountingRedis
) -> None:
    section.batch_size = 10
    worker = Recorder(section, client)
    worker.ensure_group()
    add(client, section, "a")
    poison_id = str(client.xadd(section.stream, {"other": "x"}))
    add(client, section, "b")
    assert worker.consume(block_ms=0) == 2
    assert worker.handled == ["a", "b"]
    ((_, letter),) = client.xrange(section.deadletter_stream)
    assert letter["entry_id"] == poison_id and letter["reason"] == "test_failed"
    assert letter["attempts"] == "1" and letter["detail"] == "entry without a value"
    assert client.xpending(section.stream, section.group)["pending"] == 0


def test_an_entry_that_keeps_failing_is_retried_alone_then_dead_lettered(
    section: Section, client: CountingRedis
) -> None:
    section.reclaim_idle_ms = 0
    worker = Recorder(section, client)
    worker.ensure_group()
    worker.failing["bad"] = ValueError("cannot")
    add(client, section, "a", "bad", "b")
    for _ in range(4):
        worker.consume(block_ms=0)
    assert worker.handled == ["a", "b"]
    ((_, letter),) = client.xrange(section.deadletter_stream)
    assert letter["attempts"] == "3" and letter["detail"] == "ValueError: cannot"
    assert worker.counts["failures"] == 3 and worker.counts["deadlettered"] == 1
    assert client.xpending(section.stream, section.group)["pending"] == 0


def test_an_outage_carries_the_batch_and_counts_no_failure(
    section: Section, client: CountingRedis
) -> None:
    worker = Recorder(section, client)
    worker.ensure_group()
    add(client, section, "a", "b")
    worker.failing["a"] = Outage("database away")
    with pytest.raises(Outage):
        worker.consume(block_ms=0)
    assert [fields for _, fields in worker.carry] == [{"value": "a"}, {"value": "b"}]
    del worker.failing["a"]
    assert worker.consume(block_ms=0) == 2
    assert worker.handled == ["a", "b"] and "failures" not in worker.counts


def test_a_lost_race_is_retried_one_by_one_and_then_in_the_next_round(
    section: Section, client: CountingRedis
) -> None:
    worker = Recorder(section, client)
    worker.ensure_group()
    add(client, section, "a", "b", "c")
    worker.failing["b"] = LostRace("deadlock detected")
    assert worker.consume(block_ms=0) == 1  # the batch lost; then a alone won, b lost again
    assert worker.handled == ["a"] and worker.counts["lock_conflicts"] == 2
    del worker.failing["b"]
    assert worker.consume(block_ms=0) == 2
    assert worker.handled == ["a", "b", "c"] and "failures" not in worker.counts
