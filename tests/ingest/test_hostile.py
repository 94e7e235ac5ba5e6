"""Hostile input through the real broker: every message is stored or dead-lettered with a reason."""

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shouwang.contracts import Reason
from tests.contracts.test_fuzz import mutated_messages, payloads, topics
from tests.ingest.brokers import private_mosquitto
from tests.ingest.conftest import Namespace, Publisher, running_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BATCH = 500


def _publishable(topic: str) -> bool:
    """Topics a broker accepts for publishing and that fall under ingest's `shouwang/#`."""
    return (
        topic.startswith("shouwang/")
        and not any(c in topic for c in "+#\x00")
        and len(topic.encode()) < 65535
    )


messages = st.lists(
    st.one_of(mutated_messages(), st.tuples(topics, payloads)), min_size=BATCH, max_size=BATCH
)


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=messages)
def test_generated_messages_are_each_stored_or_dead_lettered(
    batch: list[tuple[str, bytes]],
    ns: Namespace,
    redis_client: redis.Redis,
    settings_for,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    redis_client.delete(ns.stream, ns.deadletter)
    sendable = [(t, p) for t, p in batch if _publishable(t)]
    directory = tmp_path_factory.mktemp("broker")
    with (
        private_mosquitto(directory) as broker,
        running_worker(settings_for(port=broker.port, broker_stats=False)) as worker,
    ):
        publisher = Publisher(broker.port)
        publisher.publish_many(sendable)
        publisher.close()
        assert wait_for(lambda: worker.counts["received"] >= len(sendable), timeout=60)
    counts = worker.counts
    assert counts["received"] == len(sendable)
    assert counts["accepted"] + counts["duplicates"] + counts["deadlettered"] == len(sendable)
    letters = [fields for _, fields in redis_client.xrange(ns.deadletter)]
    assert len(letters) == counts["deadlettered"]
    known = {reason.value for reason in Reason} | {"snapshot_not_stored"}
    assert all(letter["reason"] in known and letter["detail"] for letter in letters)
    heartbeats = worker.metrics.registry.get_sample_value(
        "shouwang_ingest_accepted_total", {"kind": "heartbeat"}
    )
    assert redis_client.xlen(ns.stream) == counts["accepted"] - (heartbeats or 0)
