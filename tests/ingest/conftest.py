"""Fixtures for ingest tests: real Mosquitto and Redis on 127.0.0.1, isolated per test."""

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import redis
from paho.mqtt.enums import CallbackAPIVersion

from ingest.config import IngestSettings
from ingest.worker import IngestWorker
from shouwang.contracts import MessageKind, build_topic
from shouwang.contracts.examples import example

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Namespace:
    """Names unique to one test, so tests never see each other's messages."""

    uid: str
    site: str
    stream: str
    deadletter: str
    share_group: str

    def topic(self, source: str, kind: MessageKind | str) -> str:
        return build_topic(self.site, source, kind)


@pytest.fixture
def ns() -> Namespace:
    uid = uuid.uuid4().hex[:10]
    return Namespace(
        uid=uid,
        site=f"t{uid}",
        stream=f"test:{uid}:events",
        deadletter=f"test:{uid}:deadletter",
        share_group=f"g{uid}",
    )


@pytest.fixture
def redis_client(ns: Namespace) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (see README: test prerequisites)")
    yield client
    client.delete(ns.stream, ns.deadletter)
    client.close()


def make_settings(
    ns: Namespace,
    snapshot_dir: Path,
    *,
    port: int = 1883,
    worker: str = "w1",
    username: str | None = None,
    password: str | None = None,
    **ingest: Any,
) -> IngestSettings:
    """Settings for a test worker: its own stream names, share group and short-lived session."""
    section: dict[str, Any] = {
        "worker_id": f"{ns.uid}-{worker}",
        # Only this test's site: the shared broker carries other tests' traffic too.
        "topic_filter": f"shouwang/+/{ns.site}/#",
        "share_group": ns.share_group,
        "stream": ns.stream,
        "deadletter_stream": ns.deadletter,
        "snapshot_dir": str(snapshot_dir),
        "metrics_port": 0,
        "session_expiry_s": 300,
        "state_interval_s": 0.5,
    }
    section.update(ingest)
    mqtt = {"host": "127.0.0.1", "port": port, "username": username, "password": password}
    return IngestSettings.load(None, mqtt=mqtt, redis={"url": REDIS_URL}, ingest=section)


@contextmanager
def running_worker(settings: IngestSettings) -> Iterator[IngestWorker]:
    """An ingest worker on a thread, subscribed before the block starts."""
    worker = IngestWorker(settings)
    thread = threading.Thread(target=worker.run, name=f"ingest-{worker.worker_id}", daemon=True)
    thread.start()
    try:
        if not worker.wait_subscribed(15):
            raise TimeoutError("ingest worker did not subscribe within 15 s")
        yield worker
    finally:
        worker.stop()
        thread.join(15)


@pytest.fixture
def settings_for(ns: Namespace, tmp_path: Path) -> Callable[..., IngestSettings]:
    def _make(**kwargs: Any) -> IngestSettings:
        return make_settings(ns, tmp_path / "snapshots", **kwargs)

    return _make


class Publisher:
    """A plain paho publisher that waits for every PUBACK."""

    def __init__(self, port: int = 1883) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex}")
        self.client.max_inflight_messages_set(200)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(10)

    def publish_many(self, messages: list[tuple[str, bytes | str]], qos: int = 1) -> None:
        infos = [self.client.publish(topic, payload, qos=qos) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(30)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    pub = Publisher()
    yield pub
    pub.close()


def event_payload(ns: Namespace, camera: str = "cam-01", event_id: str | None = None) -> str:
    """A valid event's JSON for this test's site."""
    return example(
        MessageKind.EVENT, site=ns.site, source=camera, message_id=event_id
    ).model_dump_json()


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def mosquitto_pub_lines(port: int, topic: str, lines: list[str]) -> None:
    """Publish one message per line at QoS 1 with `mosquitto_pub -l` (as integrators would)."""
    subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-q", "1", "-l"],
        input="\n".join(lines) + "\n",
        text=True,
        check=True,
        timeout=300,
    )
