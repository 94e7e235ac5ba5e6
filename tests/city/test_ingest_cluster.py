"""Ingest into a real Redis Cluster with partitions: every event stored exactly once, in its
county's partition, the partitions spread over the masters; a master SIGKILLed while events
flow loses none of those the broker acknowledged."""

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from redis.cluster import RedisCluster

from ingest.config import IngestSettings
from shouwang.contracts import MessageKind, build_topic
from shouwang.contracts.examples import example
from shouwang.partitions import in_partition
from shouwang.redis_keys import partitions_key
from tests.city.conftest import COUNTIES
from tests.helpers.mosquitto import Mosquitto
from tests.helpers.redis_cluster import RedisClusterNodes
from tests.ingest.conftest import Publisher, running_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STREAM = "shouwang:events"


def settings(
    cluster: RedisClusterNodes, broker: Mosquitto, directory: Path, worker: str
) -> IngestSettings:
    return IngestSettings.load(
        None,
        mqtt={"host": "127.0.0.1", "port": broker.port},
        redis={"url": cluster.url, "cluster": True, "replica_acks": 1},
        partitions={"enabled": True},
        ingest={
            "worker_id": worker,
            "snapshot_dir": str(directory / "snapshots"),
            "metrics_port": 0,
            "state_interval_s": 0.5,
            "session_expiry_s": 300,
            "broker_stats": False,
        },
    )


@contextmanager
def ingest_workers(
    cluster: RedisClusterNodes, broker: Mosquitto, directory: Path, count: int
) -> Iterator[list[Any]]:
    with ExitStack() as stack:
        yield [
            stack.enter_context(running_worker(settings(cluster, broker, directory, f"ingest-{i}")))
            for i in range(count)
        ]


def events(sites: list[str], per_site: int) -> list[tuple[str, str, str]]:
    """(topic, payload, event key) for `per_site` events at each site, cameras in turn."""
    made = []
    for site in sites:
        for n in range(per_site):
            camera = f"cam-{n % 4:02d}"
            event = example(
                MessageKind.EVENT, site=site, source=camera, message_id=str(uuid.uuid4())
            )
            made.append(
                (
                    build_topic(site, camera, MessageKind.EVENT),
                    event.model_dump_json(),
                    event.idempotency_key,
                )
            )
    return made


def stored(client: RedisCluster) -> Counter[str]:
    """Event keys on every partition's stream, with how often each is there."""
    keys: Counter[str] = Counter()
    for partition in client.smembers(partitions_key(STREAM)):
        for _, fields in client.xrange(in_partition(STREAM, partition)):
            keys[fields["key"]] += 1
    return keys


def test_every_event_once_in_its_countys_partition_spread_over_masters(
    cluster: RedisClusterNodes, broker: Mosquitto, tmp_path: Path
) -> None:
    sites = [f"tongren-{county}-01" for county in COUNTIES]
    made = events(sites, 50)
    client = RedisCluster.from_url(cluster.url, decode_responses=True)
    publisher = Publisher(broker.port)
    with ingest_workers(cluster, broker, tmp_path, 2):
        publisher.publish_many([(topic, payload) for topic, payload, _ in made])
        # The edge sends a tenth again (it lost the PUBACKs): stored once all the same.
        publisher.publish_many([(topic, payload) for topic, payload, _ in made[::10]])
        assert wait_for(lambda: sum(stored(client).values()) >= len(made), 60)
        time.sleep(1)  # redeliveries would show by now
    publisher.close()

    keys = stored(client)
    assert set(keys) == {key for _, _, key in made}
    assert max(keys.values()) == 1, "an event was stored twice"
    assert client.smembers(partitions_key(STREAM)) == set(COUNTIES)
    masters = set()
    for county, site in zip(COUNTIES, sites, strict=True):
        stream = in_partition(STREAM, county)
        entries = client.xrange(stream)
        assert {fields["site"] for _, fields in entries} == {site}
        assert len(entries) == 50
        masters.add(cluster.master_of(stream).port)
        # De-duplication keys live beside the stream, in the partition's slot.
        key = entries[0][1]["key"]
        assert client.keyslot(f"shouwang:seen:{{{county}}}:{key}") == client.keyslot(stream)
        assert client.exists(f"shouwang:seen:{{{county}}}:{key}")
    assert len(masters) == 3, "the partitions did not spread over the three masters"
    client.close()


def test_a_master_killed_mid_stream_loses_nothing_acknowledged(
    cluster: RedisClusterNodes, broker: Mosquitto, tmp_path: Path
) -> None:
    sites = [f"tongren-{county}-01" for county in COUNTIES]
    made = events(sites, 300)
    made.sort(key=lambda item: item[2])  # interleave the counties
    client = RedisCluster.from_url(cluster.url, decode_responses=True)
    victim = cluster.master_of(in_partition(STREAM, COUNTIES[0]))
    publisher = Publisher(broker.port)
    with ingest_workers(cluster, broker, tmp_path, 2):

        def publish() -> None:
            for start in range(0, len(made), 50):
                publisher.publish_many([(t, p) for t, p, _ in made[start : start + 50]])
                time.sleep(0.05)

        producing = threading.Thread(target=publish, daemon=True)
        producing.start()
        assert wait_for(lambda: sum(stored(client).values()) >= 400, 60)
        killed_ms = int(time.time() * 1000)
        cluster.kill(victim)
        cluster.wait_failover(victim)
        producing.join(120)
        assert not producing.is_alive()
        assert wait_for(lambda: sum(stored(client).values()) >= len(made), 90)
        cluster.start(victim)
        time.sleep(1)
    publisher.close()

    keys = stored(client)
    missing = {key for _, _, key in made} - set(keys)
    assert not missing, f"{len(missing)} acknowledged events lost"
    assert max(keys.values()) == 1, "an event was stored twice"
    # The failover was met: events reached the killed master's partition after the kill (the
    # client's own retries may have hidden it from ingest's error count).
    after_kill = client.xrange(in_partition(STREAM, COUNTIES[0]), min=f"{killed_ms + 1}-0")
    assert after_kill, "no event reached the killed master's partition after the kill"
    client.close()
