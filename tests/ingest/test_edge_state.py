"""Edge status (including the MQTT last will) and heartbeats become the edge's latest state."""

import json
import signal
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis

from shouwang.contracts import EdgeState, EdgeStatus, MessageKind
from shouwang.contracts.examples import example
from shouwang.redis_keys import EDGES_KEY, edge_key
from tests.ingest.conftest import Namespace, Publisher, running_worker, wait_for

pytestmark = pytest.mark.integration


def status(ns: Namespace, state: EdgeState, session: str, connected_at: datetime) -> str:
    return EdgeStatus(
        schema_version=1,
        site=ns.site,
        edge="edge-01",
        state=state,
        session_id=session,
        connected_at=connected_at,
        reason="network lost" if state is EdgeState.OFFLINE else None,
    ).model_dump_json()


@pytest.fixture
def cleanup_edge(ns: Namespace, redis_client: redis.Redis):
    yield
    redis_client.delete(edge_key(ns.site, "edge-01"))
    redis_client.zrem(EDGES_KEY, f"{ns.site}/edge-01")


def test_heartbeat_and_status_are_kept_per_edge(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for, cleanup_edge
) -> None:
    session = str(uuid.uuid4())
    heartbeat = example(MessageKind.HEARTBEAT, site=ns.site, source="edge-01")
    with running_worker(settings_for()):
        publisher.publish(
            ns.topic("edge-01", "status"), status(ns, EdgeState.ONLINE, session, datetime.now(UTC))
        )
        publisher.publish(ns.topic("edge-01", "heartbeat"), heartbeat.model_dump_json())
        key = edge_key(ns.site, "edge-01")
        assert wait_for(lambda: redis_client.hexists(key, "heartbeat"))
        assert wait_for(lambda: redis_client.hget(key, "status") == "online")
    state = redis_client.hgetall(key)
    assert state["session_id"] == session
    assert json.loads(state["heartbeat"])["fps"] == heartbeat.fps
    assert redis_client.zscore(EDGES_KEY, f"{ns.site}/edge-01") == int(state["last_seen_ms"])
    # Heartbeats are state, not stream entries; the status change is also on the stream.
    assert [f["kind"] for _, f in redis_client.xrange(ns.stream)] == ["status"]


def test_last_will_marks_the_edge_offline(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for, cleanup_edge
) -> None:
    session = str(uuid.uuid4())
    connected = datetime.now(UTC)
    key = edge_key(ns.site, "edge-01")
    with running_worker(settings_for()):
        online = status(ns, EdgeState.ONLINE, session, connected)
        will = status(ns, EdgeState.OFFLINE, session, connected)
        topic = ns.topic("edge-01", "status")
        edge = subprocess.Popen(
            [
                "mosquitto_sub",
                "-h",
                "127.0.0.1",
                "-p",
                "1883",
                "-t",
                f"noop/{ns.uid}",
                "--will-topic",
                topic,
                "--will-payload",
                will,
                "--will-qos",
                "1",
                "--will-retain",
            ],
        )
        publisher.publish(topic, online, retain=True)
        assert wait_for(lambda: redis_client.hget(key, "status") == "online")
        edge.send_signal(signal.SIGKILL)  # the box loses power: the broker sends the will
        edge.wait(5)
        assert wait_for(lambda: redis_client.hget(key, "status") == "offline")
        publisher.publish(topic, b"", retain=True)  # clear the retained status
    assert redis_client.hget(key, "status_reason") == "network lost"


def test_an_old_sessions_offline_does_not_override_a_newer_online(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for, cleanup_edge
) -> None:
    earlier = datetime.now(UTC) - timedelta(minutes=5)
    old_session, new_session = str(uuid.uuid4()), str(uuid.uuid4())
    key = edge_key(ns.site, "edge-01")
    topic = ns.topic("edge-01", "status")
    with running_worker(settings_for()) as worker:
        publisher.publish(topic, status(ns, EdgeState.ONLINE, new_session, datetime.now(UTC)))
        publisher.publish(topic, status(ns, EdgeState.OFFLINE, old_session, earlier))
        assert wait_for(lambda: worker.counts["accepted"] == 2)
    assert redis_client.hget(key, "status") == "online"
    assert redis_client.hget(key, "session_id") == new_session
    assert redis_client.xlen(ns.stream) == 2
