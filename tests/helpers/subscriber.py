"""A real paho subscriber that records what arrives, for end-to-end assertions."""

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float  # time.monotonic() on arrival


class Subscriber:
    """Subscribes to `topic_filter` with QoS 1 (again after every reconnect) and records messages.

    `durable=True` keeps the session on the broker across disconnects (clean session off), so
    QoS 1 messages published while it is away are queued for it. `username`/`password` and
    `ca_file` (TLS) are for brokers that require them.
    """

    def __init__(
        self,
        port: int,
        topic_filter: str,
        *,
        host: str = "127.0.0.1",
        durable: bool = False,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.topic_filter = topic_filter
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-sub-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv311,
            clean_session=not durable,
        )
        self._client.reconnect_delay_set(1, 1)
        if username is not None:
            self._client.username_pw_set(username, password)
        if ca_file is not None:
            self._client.tls_set(ca_certs=str(ca_file))
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect
        self._host, self._port = host, port

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe(self.topic_filter, qos=1)

    def _on_subscribe(self, *_: Any) -> None:
        self._subscribed.set()

    def _on_disconnect(self, *_: Any) -> None:
        self._subscribed.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(
                Received(msg.topic, bytes(msg.payload), bool(msg.retain), time.monotonic())
            )

    def start(self, timeout: float = 10.0) -> "Subscriber":
        """Connect and wait for the SUBACK."""
        self._client.connect_async(self._host, self._port, keepalive=5)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            raise TimeoutError(f"subscriber to {self.topic_filter} got no SUBACK in {timeout}s")
        return self

    def wait_subscribed(self, timeout: float = 10.0) -> None:
        if not self._subscribed.wait(timeout):
            raise TimeoutError(f"subscriber to {self.topic_filter} not subscribed in {timeout}s")

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0) -> bool:
        """Poll until `predicate(messages)` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.snapshot()):
                return True
            time.sleep(0.02)
        return predicate(self.snapshot())
