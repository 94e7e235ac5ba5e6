"""Fixtures of the city-scale tests: a real Redis Cluster (3 masters, each with a replica) and
a broker of the test's own, on loopback."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.mosquitto import Mosquitto, running_mosquitto
from tests.helpers.redis_cluster import RedisClusterNodes, running_cluster

COUNTIES = ("wanshan", "yuping", "bijiang", "yanhe", "songtao", "sinan")
"""Six of Tongren's counties: with the slots split evenly over three masters (as `redis-cli
--cluster create` does), two partitions land on each."""


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RedisClusterNodes]:
    """A Redis Cluster of the test's own (a test may kill its nodes)."""
    with running_cluster(tmp_path / "cluster") as nodes:
        yield nodes


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto of the test's own with the project's tuning."""
    with running_mosquitto(tmp_path / "mosquitto", tuned=True) as mosquitto:
        yield mosquitto
