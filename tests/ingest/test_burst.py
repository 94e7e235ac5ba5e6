"""Bursts lose nothing with the project's broker tuning (configs/mosquitto/conf.d).

Measured with the stock Mosquitto settings instead, the same 20,000-event burst loses
messages (see benchmarks/burst.py and docs/operations.md); that is not asserted here because
how much is lost depends on the machine's speed.
"""

import threading
from pathlib import Path

import pytest
import redis

from tests.helpers.mosquitto import Mosquitto, running_mosquitto
from tests.ingest.conftest import (
    Namespace,
    event_payload,
    mosquitto_pub_lines,
    running_worker,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BURST = 20_000


@pytest.fixture
def broker(tmp_path: Path):
    with running_mosquitto(tmp_path / "broker", tuned=True) as mosquitto:
        yield mosquitto


def _assert_all_stored_once(client: redis.Redis, stream: str, expected: int) -> None:
    keys = [fields["key"] for _, fields in client.xrange(stream)]
    assert len(keys) == expected
    assert len(set(keys)) == expected


def test_20000_event_burst_from_mosquitto_pub_is_stored_exactly_once(
    ns: Namespace, redis_client: redis.Redis, broker: Mosquitto, settings_for
) -> None:
    lines = [event_payload(ns) for _ in range(BURST)]
    with running_worker(settings_for(port=broker.port)):
        mosquitto_pub_lines(broker.port, ns.topic("cam-01", "event"), lines)
        assert wait_for(lambda: redis_client.xlen(ns.stream) >= BURST, timeout=180)
    _assert_all_stored_once(redis_client, ns.stream, BURST)


def test_concurrent_publishers_burst_into_two_workers_exactly_once(
    ns: Namespace, redis_client: redis.Redis, broker: Mosquitto, settings_for
) -> None:
    publishers = 4
    per_publisher = BURST // publishers
    batches = [
        (f"cam-{p}", [event_payload(ns, camera=f"cam-{p}") for _ in range(per_publisher)])
        for p in range(publishers)
    ]
    with (
        running_worker(settings_for(port=broker.port, worker="a")) as a,
        running_worker(settings_for(port=broker.port, worker="b")) as b,
    ):
        threads = [
            threading.Thread(
                target=mosquitto_pub_lines, args=(broker.port, ns.topic(camera, "event"), lines)
            )
            for camera, lines in batches
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wait_for(lambda: redis_client.xlen(ns.stream) >= BURST, timeout=180)
    _assert_all_stored_once(redis_client, ns.stream, BURST)
    assert a.counts["accepted"] > 0 and b.counts["accepted"] > 0


def test_broker_drop_counter_reaches_the_metrics(
    ns: Namespace, redis_client: redis.Redis, broker: Mosquitto, settings_for
) -> None:
    with running_worker(settings_for(port=broker.port)) as worker:
        assert wait_for(lambda: "messages_dropped" in worker.broker_stats, timeout=15)
        assert (
            worker.metrics.registry.get_sample_value(
                "shouwang_broker_stat", {"name": "messages_dropped"}
            )
            == worker.broker_stats["messages_dropped"]
        )
