"""Publishing wire messages from asyncio code, awaiting the broker's acknowledgement.

paho-mqtt runs its network loop in a thread; each QoS 1 publish gets a future that resolves
when its PUBACK arrives. A gateway answers a camera only after that, so what the camera was
told is stored is with the broker (and a camera that gets no answer sends again).
"""

import asyncio
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
import structlog
from paho.mqtt.reasoncodes import ReasonCode

from cameras.wire import DeadLetter, Publish
from shouwang.mqtt import mqtt_client
from shouwang.settings import MqttSettings

log = structlog.get_logger("shouwang.cameras")
_NO_MATCHING_SUBSCRIBERS = 0x10


class NotDelivered(RuntimeError):
    """The broker did not take a message in time (or nobody subscribed to it)."""


class WirePublisher:
    """One MQTT connection for a gateway process."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        self.settings = settings
        self.client = mqtt_client(
            settings, f"{client_id}-{uuid.uuid4().hex[:8]}", v5=True, persistent=False
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(100_000)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_publish = self._on_publish
        self.client.on_connect = self._on_connect
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[int]]] = {}
        self._early: dict[int, int] = {}
        self.connected = threading.Event()

    def start(self) -> None:
        """Connect in the background (reconnecting on its own)."""
        self.client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    async def publish(self, item: Publish, timeout_s: float) -> None:
        """Publish `item` with QoS 1; when it asks for confirmation, wait for the PUBACK."""
        payload = item.message.model_dump_json(exclude_defaults=False).encode()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        # Never hold our lock while calling paho: its network thread holds paho's own locks
        # while it calls `_on_publish`, which takes ours. A PUBACK that comes before the future
        # is registered waits in `_early`.
        info = self.client.publish(item.topic, payload, qos=1, retain=item.retain)
        with self._lock:
            early = self._early.pop(info.mid, None)
            if early is None:
                self._waiting[info.mid] = (loop, future)
        if early is not None:
            future.set_result(early)
        if not item.confirm:
            return
        try:
            code = await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            # The entry stays: a late PUBACK then finds this (cancelled) future, not `_early`.
            raise NotDelivered(f"no PUBACK within {timeout_s:.1f} s for {item.topic}") from None
        if code == _NO_MATCHING_SUBSCRIBERS and not item.retain:
            raise NotDelivered(f"the broker has no subscriber for {item.topic}")

    async def publish_all(self, items: Sequence[Publish], timeout_s: float) -> None:
        """Publish several (in order sent, acknowledged together)."""
        await asyncio.gather(*(self.publish(item, timeout_s) for item in items))

    def _on_publish(
        self, _client: Any, _userdata: Any, mid: int, reason: ReasonCode, _properties: Any
    ) -> None:
        code = reason.value if isinstance(reason, ReasonCode) else int(reason or 0)
        with self._lock:
            waiting = self._waiting.pop(mid, None)
            if waiting is None:
                self._early[mid] = code
                return
        loop, future = waiting
        loop.call_soon_threadsafe(_resolve, future, code)

    def _on_connect(self, *_args: Any) -> None:
        self.connected.set()
        log.info("mqtt.connected", host=self.settings.host, port=self.settings.port)


def _resolve(future: "asyncio.Future[int]", code: int) -> None:
    if not future.done():
        future.set_result(code)


class DeadLetters:
    """Writes what a gateway could not use to the dead-letter stream, with the reason."""

    def __init__(
        self, client: aioredis.Redis, worker: str, stream: str, maxlen: int = 100_000
    ) -> None:
        self.client = client
        self.worker = worker
        self.stream = stream
        self.maxlen = maxlen

    async def write(self, letters: Sequence[DeadLetter]) -> None:
        """Append `letters` (one round trip)."""
        if not letters:
            return
        pipe = self.client.pipeline(transaction=False)
        for letter in letters:
            pipe.xadd(self.stream, letter.fields(self.worker), maxlen=self.maxlen)
        await pipe.execute()
        for letter in letters:
            log.warning(
                "dead_letter", source=letter.source, reason=letter.reason, detail=letter.detail
            )
