"""The health view shows what an operator needs to see loss before users do."""

import pytest
import redis

from shouwang.contracts import MessageKind
from shouwang.contracts.examples import example
from shouwang.health import read_health
from shouwang.redis_keys import EDGES_KEY, edge_key
from tests.helpers.mosquitto import running_mosquitto
from tests.ingest.conftest import Namespace, Publisher, event_payload, running_worker, wait_for

pytestmark = pytest.mark.integration


def test_health_reports_workers_streams_edges_and_broker_counters(
    ns: Namespace, redis_client: redis.Redis, settings_for, tmp_path
) -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    heartbeat = example(MessageKind.HEARTBEAT, site=ns.site, source="edge-01")
    try:
        with (
            running_mosquitto(tmp_path / "broker", tuned=True) as broker,
            running_worker(settings_for(port=broker.port)) as worker,
        ):
            publisher = Publisher(broker.port)
            publisher.publish(ns.topic("cam-01", "event"), event_payload(ns))
            publisher.publish(ns.topic("cam-01", "event"), b"{not json")
            publisher.publish(ns.topic("edge-01", "heartbeat"), heartbeat.model_dump_json())
            assert wait_for(lambda: worker.counts["received"] == 3)
            assert wait_for(lambda: "messages_dropped" in worker.broker_stats)
            assert wait_for(
                lambda: any(
                    w.worker == worker.worker_id and w.counts.get("received") == 3
                    for w in read_health(client).workers
                )
            )
            report = read_health(client, events_stream=ns.stream, deadletter_stream=ns.deadletter)
            publisher.close()
        mine = next(w for w in report.workers if w.worker == worker.worker_id)
        assert mine.alive and mine.connected
        assert mine.counts == {"received": 3, "accepted": 2, "deadlettered": 1}
        assert "messages_dropped" in mine.broker
        assert report.broker_dropped is not None
        events, dead = report.streams
        assert (events.name, events.length) == (ns.stream, 1)
        assert dead.recent_reasons == {"invalid_json": 1}
        edge = next(e for e in report.edges if e.site == ns.site)
        assert edge.fps == heartbeat.fps
        assert edge.cameras == {"cam-01": "online"}
        after = next(w for w in read_health(client).workers if w.worker == worker.worker_id)
        assert after.stopped and not after.alive
    finally:
        client.delete(edge_key(ns.site, "edge-01"))
        client.zrem(EDGES_KEY, f"{ns.site}/edge-01")
        client.close()
