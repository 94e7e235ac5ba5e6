"""The partition lease table (shouwang/leases.py) on the real Redis: fair shares, a joining
worker taking its share, a dead worker's partitions moving, a clean stop giving them back."""

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from shouwang.leases import PartitionLeases

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"
PARTITIONS = ["bijiang", "dejiang", "jiangkou", "shiqian", "sinan", "songtao", "wanshan"]


@pytest.fixture
def prefix() -> Iterator[str]:
    prefix = f"test:{uuid.uuid4().hex[:10]}:rules"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(*leases(prefix, "cleanup").keys)
    client.close()


def leases(prefix: str, worker: str, ttl_ms: int = 10_000) -> PartitionLeases:
    return PartitionLeases(redis.Redis.from_url(REDIS_URL), prefix, "rules", worker, ttl_ms)


def test_workers_share_the_partitions_fairly(prefix: str) -> None:
    a, b, c = (leases(prefix, name) for name in "abc")
    assert a.renew(PARTITIONS) == PARTITIONS  # alone, it takes them all
    assert b.renew(PARTITIONS) == []  # nothing free yet
    assert len(a.renew(PARTITIONS)) == 4  # ⌈7 / 2⌉: it gives three back
    assert len(b.renew(PARTITIONS)) == 3
    c.renew(PARTITIONS)
    held = {name: lease.renew(PARTITIONS) for name, lease in zip("abc", (a, b, c), strict=True)}
    held = {name: lease.renew(PARTITIONS) for name, lease in zip("abc", (a, b, c), strict=True)}
    assert sorted(p for ps in held.values() for p in ps) == PARTITIONS  # each exactly once
    assert all(len(ps) <= 3 for ps in held.values())
    assert a.owners() == {p: name for name, ps in held.items() for p in ps}


def test_a_dead_workers_partitions_move_and_a_clean_stop_gives_them_back(prefix: str) -> None:
    dying = leases(prefix, "dying", ttl_ms=300)
    survivor = leases(prefix, "survivor")
    dying.renew(PARTITIONS)
    survivor.renew(PARTITIONS)
    dying.renew(PARTITIONS)
    assert len(survivor.renew(PARTITIONS)) == 3  # `dying` kept ⌈7 / 2⌉
    time.sleep(0.5)  # `dying` stops renewing: its lease runs out on Redis's clock
    assert survivor.renew(PARTITIONS) == PARTITIONS
    assert set(survivor.owners().values()) == {"survivor"}
    survivor.release()
    assert survivor.owners() == {}
    newcomer = leases(prefix, "newcomer")
    assert newcomer.renew(PARTITIONS[:2]) == PARTITIONS[:2]  # partitions come and go
