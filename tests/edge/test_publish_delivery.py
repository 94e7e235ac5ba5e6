"""End to end against a Mosquitto of the test's own: outages, kills, the will, pacing."""

import json
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from edge.publish import EdgePublisher, PublisherSettings
from shouwang.contracts import SCHEMA_VERSION, EdgeStatus, Heartbeat
from shouwang.settings import MqttSettings
from tests.helpers.edge_events import make_event, make_snapshot
from tests.helpers.mosquitto import Mosquitto, free_port, running_mosquitto
from tests.helpers.subscriber import Received, Subscriber

pytestmark = pytest.mark.integration

EDGE = "edge-01"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    with running_mosquitto(tmp_path_factory.mktemp("mosquitto")) as broker:
        yield broker


@pytest.fixture
def site() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


PublisherFactory = Callable[..., EdgePublisher]


@pytest.fixture
def make_publisher(tmp_path: Path, site: str) -> Iterator[PublisherFactory]:
    """Publishers for this test's site, stopped at the end."""
    made: list[EdgePublisher] = []

    def make(port: int, *, queue: Path | None = None, **overrides: Any) -> EdgePublisher:
        values: dict[str, Any] = {
            "queue_path": queue or tmp_path / "outbox.sqlite3",
            "replay_jitter_s": 0,
            "replay_rate": 5000,
            "reconnect_min_s": 1,
            "reconnect_max_s": 1,
        }
        values.update(overrides)
        rng = values.pop("rng", None)
        publisher = EdgePublisher(
            site=site,
            edge=EDGE,
            mqtt_settings=MqttSettings(port=port, keepalive_s=5),
            settings=PublisherSettings(**values),
            rng=rng,
        )
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.stop(timeout=2)


def event_ids(messages: list[Received], kind: str = "event") -> list[str]:
    """Event ids in order of first arrival (QoS 1 may deliver a message twice)."""
    seen: dict[str, None] = {}
    for message in messages:
        if message.topic.endswith(f"/{kind}"):
            seen.setdefault(json.loads(message.payload)["event_id"], None)
    return list(seen)


def statuses(messages: list[Received]) -> list[tuple[EdgeStatus, bool]]:
    return [
        (EdgeStatus.model_validate_json(m.payload), m.retain)
        for m in messages
        if m.topic.endswith("/status")
    ]


def wait_connected(publisher: EdgePublisher, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not publisher.connected:
        assert time.monotonic() < deadline, "publisher did not connect"
        time.sleep(0.02)


def spawn_publisher(queue: Path, port: int, site: str, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.helpers.publisher_process"]
    command += ["--queue", str(queue), "--port", str(port), "--site", site, "--edge", EDGE]
    return subprocess.Popen(
        [*command, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def read_line(process: subprocess.Popen[str], prefix: str) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith(prefix), f"child said {line!r}, expected {prefix!r}"
    return line


def test_broker_down_for_the_whole_run_then_everything_in_order(
    tmp_path: Path, site: str, make_publisher: PublisherFactory
) -> None:
    broker = Mosquitto(tmp_path / "broker", persistence=True)
    (tmp_path / "broker").mkdir()
    broker.start()
    # Ingest's durable session: the broker keeps its subscription across the outage.
    subscriber = Subscriber(
        broker.port, f"shouwang/v1/{site}/+/+", durable=True, client_id=f"ingest-{site}"
    ).start()
    broker.stop()
    try:
        publisher = make_publisher(broker.port)
        publisher.start()  # must not raise: the broker is down
        sent = [f"evt-{i:06d}" for i in range(300)]
        for i, event_id in enumerate(sent):
            event = make_event(site, EDGE, event_id, camera=f"cam-{i % 3}")
            publisher.publish_event(event, make_snapshot(event) if i % 10 == 0 else None)
        assert publisher.queue_depth == 300 and not publisher.connected

        broker.start()
        assert subscriber.wait_for(lambda m: len(event_ids(m)) >= 300, timeout=20)
        assert publisher.wait_until_delivered(timeout=10)
        messages = subscriber.snapshot()
        assert event_ids(messages) == sent  # none lost, none extra, order of first arrival
        assert event_ids(messages, "snapshot") == sent[::10]
        stats = publisher.stats()
        assert stats.queue.sent == 330 and stats.queue.depth == 0
        assert sum(stats.queue.evicted.values()) == 0
    finally:
        subscriber.stop()
        broker.stop()


def test_outage_in_the_middle_loses_nothing(
    tmp_path: Path, site: str, make_publisher: PublisherFactory
) -> None:
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker", persistence=True)
    broker.start()
    subscriber = Subscriber(
        broker.port, f"shouwang/v1/{site}/+/event", durable=True, client_id=f"ingest-{site}"
    ).start()
    publisher = make_publisher(broker.port, replay_rate=2000)
    publisher.start()
    wait_connected(publisher)
    try:
        sent = [f"evt-{i:06d}" for i in range(400)]
        for event_id in sent[:200]:
            publisher.publish_event(make_event(site, EDGE, event_id))
        broker.stop()  # mid-stream: some are in flight, some still queued
        for event_id in sent[200:]:
            publisher.publish_event(make_event(site, EDGE, event_id))
        broker.start()
        assert subscriber.wait_for(lambda m: len(event_ids(m)) >= 400, timeout=20)
        assert publisher.wait_until_delivered(timeout=10)
        assert event_ids(subscriber.snapshot()) == sent
    finally:
        subscriber.stop()
        broker.stop()


def test_killed_process_queue_is_delivered_by_the_next_publisher(
    tmp_path: Path, site: str, broker: Mosquitto, make_publisher: PublisherFactory
) -> None:
    queue = tmp_path / "outbox.sqlite3"
    child = spawn_publisher(queue, free_port(), site, "--count", "50", "--prefix", "kill")
    try:
        read_line(child, "queued 50")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/+/event").start()
    try:
        publisher = make_publisher(broker.port, queue=queue)
        publisher.start()
        assert publisher.queue_depth == 50
        assert subscriber.wait_for(lambda m: len(event_ids(m)) >= 50, timeout=15)
        assert event_ids(subscriber.snapshot()) == [f"kill-{i:06d}" for i in range(50)]
        assert publisher.wait_until_delivered(timeout=10)
    finally:
        subscriber.stop()


def test_online_is_retained_and_the_will_says_offline_when_killed(
    tmp_path: Path, site: str, broker: Mosquitto
) -> None:
    topic = f"shouwang/v1/{site}/{EDGE}/status"
    live = Subscriber(broker.port, topic).start()
    child = spawn_publisher(tmp_path / "outbox.sqlite3", broker.port, site, "--wait-connected")
    try:
        read_line(child, "queued 0")
        session_id = read_line(child, "connected ").split()[1]
        late = Subscriber(broker.port, topic).start()  # joins after: gets the retained status
        assert late.wait_for(lambda m: bool(statuses(m)), timeout=10)
        (online, retained), *_ = statuses(late.snapshot())
        late.stop()
        assert retained and online.state == "online" and online.session_id == session_id
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    try:
        assert live.wait_for(lambda m: any(s.state == "offline" for s, _ in statuses(m)), 15)
        offline = next(s for s, _ in statuses(live.snapshot()) if s.state == "offline")
        assert offline.session_id == session_id
        assert offline.connected_at == online.connected_at
        assert offline.reason == "connection lost"
        after = Subscriber(broker.port, topic).start()
        assert after.wait_for(lambda m: bool(statuses(m)), timeout=10)
        (last, retained), *_ = statuses(after.snapshot())
        after.stop()
        assert retained and last.state == "offline" and last.session_id == session_id
    finally:
        live.stop()


def test_graceful_stop_announces_offline_with_reason(
    site: str, broker: Mosquitto, make_publisher: PublisherFactory
) -> None:
    subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/+/+").start()
    try:
        publisher = make_publisher(broker.port)
        publisher.start()
        wait_connected(publisher)
        for i in range(20):
            publisher.publish_event(make_event(site, EDGE, f"last-{i:06d}"))
        session_id = publisher.session_id
        publisher.stop(timeout=5, reason="maintenance")
        assert publisher.stats().queue.sent == 20
        assert subscriber.wait_for(lambda m: any(s.state == "offline" for s, _ in statuses(m)))
        states = [
            (s.state.value, s.session_id, s.reason) for s, _ in statuses(subscriber.snapshot())
        ]
        assert states == [("online", session_id, None), ("offline", session_id, "maintenance")]
        assert event_ids(subscriber.snapshot()) == [f"last-{i:06d}" for i in range(20)]
    finally:
        subscriber.stop()


def test_each_connection_is_a_new_session(
    tmp_path: Path, site: str, make_publisher: PublisherFactory
) -> None:
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    publisher = make_publisher(broker.port)
    publisher.start()
    try:
        wait_connected(publisher)
        first = publisher.session_id
        broker.stop()
        broker.start()
        subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/{EDGE}/status").start()
        wait_connected(publisher)
        assert subscriber.wait_for(lambda m: bool(statuses(m)), timeout=10)
        (status, _), *_ = statuses(subscriber.snapshot())
        subscriber.stop()
        assert status.state == "online" and status.session_id == publisher.session_id != first
    finally:
        broker.stop()


def test_replay_is_paced_by_the_token_bucket(
    site: str, broker: Mosquitto, make_publisher: PublisherFactory
) -> None:
    rate, count = 40.0, 30
    subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/+/event").start()
    try:
        publisher = make_publisher(broker.port, replay_rate=rate, replay_burst=1)
        publisher.start()
        wait_connected(publisher)
        for i in range(count):
            publisher.publish_event(make_event(site, EDGE, f"paced-{i:06d}"))
        assert subscriber.wait_for(lambda m: len(event_ids(m)) >= count, timeout=15)
        arrivals = [m.at for m in subscriber.snapshot()]
        # A lower bound only: a slow machine makes replay slower, never faster.
        assert arrivals[-1] - arrivals[0] >= 0.8 * (count - 1) / rate
        assert event_ids(subscriber.snapshot()) == [f"paced-{i:06d}" for i in range(count)]
    finally:
        subscriber.stop()


class _LongestJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_backlog_waits_for_the_jitter_after_connecting(
    tmp_path: Path, site: str, broker: Mosquitto, make_publisher: PublisherFactory
) -> None:
    queue = tmp_path / "outbox.sqlite3"
    offline = make_publisher(free_port(), queue=queue)
    offline.start()
    for i in range(5):
        offline.publish_event(make_event(site, EDGE, f"jit-{i:06d}"))
    offline.stop(timeout=0)
    subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/+/event").start()
    try:
        publisher = make_publisher(
            broker.port, queue=queue, replay_jitter_s=0.6, rng=_LongestJitter()
        )
        started = time.monotonic()
        publisher.start()
        assert subscriber.wait_for(lambda m: len(event_ids(m)) >= 5, timeout=15)
        assert subscriber.snapshot()[0].at - started >= 0.6
    finally:
        subscriber.stop()


def test_camera_threads_publish_concurrently(
    site: str, broker: Mosquitto, make_publisher: PublisherFactory
) -> None:
    subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/+/event").start()
    try:
        publisher = make_publisher(broker.port, max_inflight=8)
        publisher.start()
        wait_connected(publisher)

        def camera(n: int) -> None:
            for i in range(50):
                publisher.publish_event(make_event(site, EDGE, f"c{n}-{i:06d}", camera=f"cam-{n}"))

        threads = [threading.Thread(target=camera, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert subscriber.wait_for(lambda m: len(event_ids(m)) >= 200, timeout=15)
        ids = event_ids(subscriber.snapshot())
        assert len(ids) == 200
        for n in range(4):
            assert [i for i in ids if i.startswith(f"c{n}-")] == [
                f"c{n}-{i:06d}" for i in range(50)
            ]
    finally:
        subscriber.stop()


def test_heartbeats_carry_queue_depth(tmp_path: Path, site: str, broker: Mosquitto) -> None:
    subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/{EDGE}/heartbeat").start()
    holder: list[EdgePublisher] = []

    def heartbeat() -> Heartbeat:
        publisher = holder[0]
        return Heartbeat(
            schema_version=SCHEMA_VERSION,
            site=site,
            edge=EDGE,
            session_id=publisher.session_id,
            sent_at=datetime.now(UTC),
            uptime_s=1.0,
            fps=5.0,
            inference_ms=20.0,
            queue_depth=publisher.queue_depth,
        )

    try:
        publisher = EdgePublisher(
            site=site,
            edge=EDGE,
            mqtt_settings=MqttSettings(port=broker.port),
            settings=PublisherSettings(
                queue_path=tmp_path / "outbox.sqlite3", heartbeat_interval_s=0.2
            ),
            heartbeat=heartbeat,
        )
        holder.append(publisher)
        publisher.start()
        try:
            assert subscriber.wait_for(lambda m: len(m) >= 3, timeout=10)
        finally:
            publisher.stop(timeout=2)
        beats = [Heartbeat.model_validate_json(m.payload) for m in subscriber.snapshot()]
        assert {b.session_id for b in beats} == {publisher.session_id}
        assert publisher.stats().heartbeats_sent >= 3
    finally:
        subscriber.stop()


def test_mqtt_311_works_too(site: str, broker: Mosquitto, make_publisher: PublisherFactory) -> None:
    subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/+/+").start()
    try:
        publisher = make_publisher(broker.port, mqtt_version="3.1.1")
        publisher.start()
        for i in range(10):
            publisher.publish_event(make_event(site, EDGE, f"v311-{i:06d}"))
        assert subscriber.wait_for(lambda m: len(event_ids(m)) >= 10, timeout=10)
        assert event_ids(subscriber.snapshot()) == [f"v311-{i:06d}" for i in range(10)]
        assert [s.state for s, _ in statuses(subscriber.snapshot())] == ["online"]
    finally:
        subscriber.stop()
