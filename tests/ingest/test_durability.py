"""Nothing lost across ingest restarts, crashes and several workers (real broker and Redis)."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import yaml

from tests.helpers.mosquitto import Mosquitto, running_mosquitto
from tests.ingest.conftest import (
    REDIS_URL,
    Namespace,
    Publisher,
    event_payload,
    running_worker,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def broker(tmp_path: Path):
    with running_mosquitto(tmp_path / "broker", tuned=True) as mosquitto:
        yield mosquitto


def event_ids_in(client: redis.Redis, stream: str) -> list[str]:
    return [fields["key"] for _, fields in client.xrange(stream)]


def test_events_published_while_ingest_is_down_arrive_when_it_returns(
    ns: Namespace, redis_client: redis.Redis, broker: Mosquitto, settings_for
) -> None:
    settings = settings_for(port=broker.port)
    with running_worker(settings):
        pass  # creates the persistent session and its subscription, then stops
    publisher = Publisher(broker.port)
    payloads = [event_payload(ns) for _ in range(200)]
    publisher.publish_many([(ns.topic("cam-01", "event"), p) for p in payloads])
    publisher.close()
    assert redis_client.xlen(ns.stream) == 0
    with running_worker(settings):
        assert wait_for(lambda: redis_client.xlen(ns.stream) == 200)
    ids = event_ids_in(redis_client, ns.stream)
    assert len(set(ids)) == 200


def _write_config(path: Path, ns: Namespace, port: int, snapshots: Path) -> Path:
    config = {
        "mqtt": {"host": "127.0.0.1", "port": port},
        "redis": {"url": REDIS_URL},
        "ingest": {
            "worker_id": f"{ns.uid}-killed",
            "share_group": ns.share_group,
            "stream": ns.stream,
            "deadletter_stream": ns.deadletter,
            "snapshot_dir": str(snapshots),
            "metrics_port": 0,
            "session_expiry_s": 300,
            "batch_size": 50,
        },
    }
    path.write_text(yaml.safe_dump(config))
    return path


def _start_ingest(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "shouwang", "ingest", "--config", str(config), "--json-logs"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait_for_subscription(process: subprocess.Popen[bytes]) -> None:
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    for line in process.stderr:
        if b"connected to broker" in line:
            threading.Thread(target=process.stderr.read, daemon=True).start()
            time.sleep(0.5)  # SUBACK follows the CONNACK
            return
        assert time.monotonic() < deadline, "ingest did not connect within 30 s"
    raise AssertionError(f"ingest exited early with code {process.wait()}")


def test_sigkill_while_2000_events_are_in_flight_loses_and_duplicates_nothing(
    ns: Namespace, redis_client: redis.Redis, broker: Mosquitto, tmp_path: Path
) -> None:
    config = _write_config(tmp_path / "ingest.yaml", ns, broker.port, tmp_path / "snap")
    ingest = _start_ingest(config)
    _wait_for_subscription(ingest)
    payloads = [event_payload(ns) for _ in range(2000)]
    publisher = Publisher(broker.port)

    def publish_all() -> None:
        for start in range(0, len(payloads), 100):  # ~2,000 events over about a second
            chunk = payloads[start : start + 100]
            publisher.publish_many([(ns.topic("cam-01", "event"), p) for p in chunk])
            time.sleep(0.05)

    sending = threading.Thread(target=publish_all)
    sending.start()
    assert wait_for(lambda: redis_client.xlen(ns.stream) >= 300, timeout=30)
    ingest.send_signal(signal.SIGKILL)
    ingest.wait(10)
    stored_at_kill = redis_client.xlen(ns.stream)
    sending.join(60)
    publisher.close()
    assert stored_at_kill < 2000, "the kill came after everything was stored; nothing tested"

    restarted = _start_ingest(config)
    try:
        assert wait_for(lambda: redis_client.xlen(ns.stream) >= 2000, timeout=60)
        time.sleep(1.0)  # anything redelivered late must still not be duplicated
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(20)
    ids = event_ids_in(redis_client, ns.stream)
    assert len(ids) == 2000
    assert len(set(ids)) == 2000
    assert restarted.returncode == 0


def test_two_workers_on_the_shared_subscription_split_the_work(
    ns: Namespace, redis_client: redis.Redis, broker: Mosquitto, settings_for
) -> None:
    first = settings_for(port=broker.port, worker="a")
    second = settings_for(port=broker.port, worker="b")
    with running_worker(first) as a, running_worker(second) as b:
        publisher = Publisher(broker.port)
        payloads = [event_payload(ns, camera=f"cam-{i % 4}") for i in range(1000)]
        publisher.publish_many(
            [(ns.topic(f"cam-{i % 4}", "event"), p) for i, p in enumerate(payloads)]
        )
        publisher.close()
        assert wait_for(lambda: redis_client.xlen(ns.stream) >= 1000)
        time.sleep(0.3)
    ids = event_ids_in(redis_client, ns.stream)
    assert len(ids) == len(set(ids)) == 1000
    assert a.counts["accepted"] > 0 and b.counts["accepted"] > 0
    assert a.counts["accepted"] + b.counts["accepted"] == 1000


def test_redis_outage_holds_messages_at_the_broker_until_redis_returns(
    ns: Namespace, broker: Mosquitto, settings_for, tmp_path: Path
) -> None:
    from tests.helpers.mosquitto import free_port, wait_for_port

    port = free_port()
    server_args = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--dir",
        str(tmp_path),
    ]
    server = subprocess.Popen(server_args, stdout=subprocess.DEVNULL)
    wait_for_port(port)
    url = f"redis://127.0.0.1:{port}/0"
    settings = settings_for(port=broker.port)
    settings = settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": url})})
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        with running_worker(settings) as worker:
            publisher = Publisher(broker.port)
            publisher.publish(ns.topic("cam-01", "event"), event_payload(ns))
            assert wait_for(lambda: client.xlen(ns.stream) == 1)
            server.terminate()
            server.wait(10)
            publisher.publish_many(
                [(ns.topic("cam-01", "event"), event_payload(ns)) for _ in range(50)]
            )
            assert wait_for(lambda: worker.counts["redis_errors"] > 0)
            server = subprocess.Popen(server_args, stdout=subprocess.DEVNULL)
            wait_for_port(port)
            assert wait_for(lambda: client.xlen(ns.stream) == 51, timeout=30)
            publisher.close()
    finally:
        client.close()
        server.terminate()
        server.wait(10)


def test_a_changed_topic_filter_drops_the_sessions_old_subscription(
    ns: Namespace, redis_client: redis.Redis, broker: Mosquitto, settings_for
) -> None:
    other_site = f"{ns.site}-old"
    old = settings_for(port=broker.port, topic_filter=f"shouwang/+/{other_site}/#")
    with running_worker(old):
        pass  # the persistent session now holds the old subscription
    new = settings_for(port=broker.port)  # the same worker id, this test's site only
    with running_worker(new) as worker:
        publisher = Publisher(broker.port)
        publisher.publish(f"shouwang/v1/{other_site}/cam-01/event", b"{}")
        publisher.publish(ns.topic("cam-01", "event"), event_payload(ns))
        publisher.close()
        assert wait_for(lambda: redis_client.xlen(ns.stream) == 1)
        time.sleep(0.5)
    assert worker.counts["received"] == 1, "the old subscription still delivers"
    assert redis_client.xlen(ns.deadletter) == 0
