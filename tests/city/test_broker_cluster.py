"""The chosen clustered broker: three NATS servers (MQTT front on JetStream, replicated), edge
boxes on MQTT 3.1.1 spread over them, two ingest workers on one durable JetStream consumer,
a Redis Cluster with partitions and two rules workers. A broker node SIGKILLed mid-stream loses
none of the events it acknowledged and doubles no alert."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.city.test_pipeline_cluster import county_events
from tests.faults.stack import Stack, running_stack, wait_until
from tests.faults.tally import assert_nothing_lost_or_doubled, settled
from tests.helpers.nats_cluster import NatsCluster
from tests.records.databases import database_url

__all__ = ["database_url"]

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EPISODES_PER_COUNTY = 60


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    with running_stack(tmp_path, database_url, cluster=True, nats=True) as stack:
        stack.write_config(rules={"lease_ttl_s": 3, "reclaim_idle_ms": 3000})
        yield stack


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_broker_node_killed_mid_stream_loses_nothing_and_doubles_no_alert(stack: Stack) -> None:
    broker = stack.broker
    assert isinstance(broker, NatsCluster)
    stack.start_ingest("ingest-1")
    stack.start_ingest("ingest-2")
    stack.start_rules("rules-1")
    stack.start_rules("rules-2")
    by_site = county_events(EPISODES_PER_COUNTY)
    threads: list[threading.Thread] = []
    for index, (site, events) in enumerate(by_site.items()):
        port = broker.mqtt_ports[index % len(broker.mqtt_ports)]
        publisher = stack.publisher(port, site=site, replay_rate=300)
        threads.append(stack.produce(publisher, events))
    wait_until(lambda: stack.stored() >= 300, 120, "300 events stored")
    broker.kill(0)  # two counties' edge boxes lose their broker; its share of JetStream too
    stored_at_kill = stack.stored()
    wait_until(lambda: stack.stored() >= stored_at_kill + 200, 120, "events flowing on without it")
    broker.start(0)  # its edge boxes reconnect and send what they hold
    for thread in threads:
        thread.join(120)
    events = [event for events in by_site.values() for event in events]
    assert stored_at_kill < len(events), "every event was stored before the kill"

    tally = settled(stack, events, timeout=240)
    print(f"NATS node killed at {stored_at_kill} stored: {tally.summary()}")
    assert tally.episodes == EPISODES_PER_COUNTY * len(by_site)
    assert_nothing_lost_or_doubled(tally, stack, events)
