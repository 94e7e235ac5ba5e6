"""Hostile input through the real broker: every message is stored or dead-lettered with a reason."""

import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.worker import IngestWorker
from shouwang.contracts import Reason
from tests.contracts.test_fuzz import mutated_messages, payloads, topics
from tests.helpers.mosquitto import running_mosquitto
from tests.ingest.conftest import (
    REDIS_URL,
    Namespace,
    Publisher,
    make_settings,
    running_worker,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _publishable(topic: str) -> bool:
    """Topics a broker accepts for publishing and that fall under ingest's `shouwang/#`.

    Brokers refuse (and disconnect the publisher for) wildcards, control characters and
    Unicode non-characters in topic names (MQTT 3.1.1 §1.5.3, 4.7.3).
    """
    return (
        topic.startswith("shouwang/")
        and not any(c in topic for c in "+#")
        and not any(
            unicodedata.category(c) == "Cc"
            or 0xFDD0 <= ord(c) <= 0xFDEF
            or (ord(c) & 0xFFFE) == 0xFFFE
            for c in topic
        )
        and len(topic.encode()) < 65535
    )


MESSAGES_AT_LEAST = 10_000
"""Generated messages the broker must carry to ingest over the module (issue 8)."""


@dataclass
class Rig:
    worker: IngestWorker
    publisher: Publisher
    redis: redis.Redis
    stream: str
    deadletter: str
    batches: int = 0
    sent: int = 0


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    uid = uuid.uuid4().hex[:10]
    ns = Namespace(uid, f"t{uid}", f"test:{uid}:events", f"test:{uid}:deadletter", f"g{uid}")
    directory = tmp_path_factory.mktemp("hostile")
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    with running_mosquitto(Path(directory) / "broker", tuned=True) as broker:
        settings_ = make_settings(
            ns,
            directory / "snapshots",
            port=broker.port,
            broker_stats=False,
            topic_filter="shouwang/#",
        )
        with running_worker(settings_) as worker:
            publisher = Publisher(broker.port)
            yield Rig(worker, publisher, client, ns.stream, ns.deadletter)
            publisher.close()
    client.delete(ns.stream, ns.deadletter)
    client.close()


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    batch=st.lists(
        st.one_of(mutated_messages(), st.tuples(topics, payloads)), min_size=60, max_size=120
    )
)
def test_generated_messages_are_each_stored_or_dead_lettered(
    batch: list[tuple[str, bytes]], rig: Rig
) -> None:
    sendable = [(t, p) for t, p in batch if _publishable(t)]
    counts = rig.worker.counts
    before = dict(counts)
    letters_before = rig.redis.xlen(rig.deadletter)
    rig.publisher.publish_many(sendable)
    rig.batches += 1
    rig.sent += len(sendable)
    assert wait_for(lambda: counts["received"] - before.get("received", 0) >= len(sendable))
    assert counts["received"] - before.get("received", 0) == len(sendable)
    delta = {k: counts[k] - before.get(k, 0) for k in ("accepted", "duplicates", "deadlettered")}
    assert sum(delta.values()) == len(sendable)
    letters = [f for _, f in rig.redis.xrange(rig.deadletter)][letters_before:]
    assert len(letters) == delta["deadlettered"]
    known = {reason.value for reason in Reason} | {"snapshot_not_stored"}
    assert all(letter["reason"] in known and letter["detail"] for letter in letters)
    heartbeats = rig.worker.metrics.registry.get_sample_value(
        "shouwang_ingest_accepted_total", {"kind": "heartbeat"}
    )
    assert rig.redis.xlen(rig.stream) == counts["accepted"] - (heartbeats or 0)


def test_ingest_took_at_least_ten_thousand_generated_messages(rig: Rig) -> None:
    """Runs after the generated batches (file order): they carried enough through ingest."""
    if not rig.batches:
        pytest.skip("the generated batches did not run in this session (selected alone)")
    assert rig.sent >= MESSAGES_AT_LEAST
    assert rig.worker.counts["received"] >= rig.sent
