"""The bridge's shell: MQTT in (Zigbee2MQTT and Home Assistant topics), readings out on the wire
contract's sensor topics, dead letters and last values into Redis.

A message received at QoS 1 is acknowledged only after its readings were acknowledged by the
broker and its dead letter and last values were written, so a crash loses nothing: the broker
keeps unacknowledged messages in the bridge's persistent session and sends them again, and
their readings, whose ids derive from the message, are stored once by ingest.
"""

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import redis
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from sensorbridge.config import BridgeSettings
from sensorbridge.directory import DeviceDirectory, DeviceIndex
from sensorbridge.metrics import BridgeMetrics
from sensorbridge.store import BridgeStore, Letter
from sensorbridge.translate import Incoming, Sighting, Translation, Translator
from shouwang.contracts import MessageKind, build_topic
from shouwang.metrics_http import counter_values, serve_metrics
from shouwang.mqtt import mqtt_client
from shouwang.redis_client import connect

log = structlog.get_logger("shouwang.bridge")

RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 5.0)


@dataclass(frozen=True, slots=True)
class Received:
    """A message off the broker, with what acknowledging it needs."""

    incoming: Incoming
    mid: int
    qos: int
    connection: int


class BridgeWorker:
    """One bridge. `run()` blocks until `stop()`."""

    def __init__(
        self,
        settings: BridgeSettings,
        directory: DeviceDirectory,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.section = settings.bridge
        self.directory = directory
        self.clock = clock
        self.metrics = BridgeMetrics()
        self.translator = Translator(
            self.section.zigbee2mqtt_topics, self.section.homeassistant_topic
        )
        self.store = BridgeStore(
            connect(settings.redis, socket_timeout=10),
            deadletter_stream=self.section.deadletter_stream,
            state_key=self.section.state_key,
            worker=f"bridge:{self.section.client_id}",
        )
        self._inbox: queue.Queue[Received] = queue.Queue()
        self._connection = 0
        self._subscribed = threading.Event()
        self._stopping = threading.Event()
        self._devices_version: object = None
        self._next_refresh = 0.0
        self._reported: dict[tuple[str, str, str], float] = {}
        self.client = self._make_client()

    @property
    def counts(self) -> dict[str, int]:
        """Messages received so far, by what they became (`messages` counter's outcomes)."""
        return counter_values(self.metrics.messages, "outcome")

    # MQTT side (paho's network thread).

    def _make_client(self) -> mqtt.Client:
        client = mqtt_client(
            self.settings.mqtt,
            self.section.client_id,
            v5=self.section.protocol == "5",
            persistent=True,
            manual_ack=True,
        )
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def subscriptions(self) -> list[tuple[str, int]]:
        """The topic filters the bridge reads, at QoS 1."""
        topics = [(f"{base}/#", 1) for base in self.section.zigbee2mqtt_topics]
        if self.section.homeassistant_topic:
            topics.append((f"{self.section.homeassistant_topic}/+/+/state", 1))
        return topics

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker refused connection", reason=str(reason))
            return
        self._connection += 1
        self.metrics.connected.set(1)
        client.subscribe(self.subscriptions())
        log.info(
            "connected to broker",
            session_present=bool(flags.session_present),
            topics=[topic for topic, _ in self.subscriptions()],
        )

    def _on_subscribe(self, *_args: Any) -> None:
        self._subscribed.set()
        log.info("subscribed", topics=[topic for topic, _ in self.subscriptions()])

    def _on_disconnect(self, *_args: Any) -> None:
        # Messages of the old connection are still handled but no longer acknowledged: the
        # broker sends them again, and their readings are stored once.
        self._connection += 1
        self.metrics.connected.set(0)
        if not self._stopping.is_set():
            log.warning("disconnected from broker; reconnecting")

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        received = datetime.fromtimestamp(self.clock(), UTC)
        incoming = Incoming(message.topic, bytes(message.payload), received, bool(message.retain))
        self._inbox.put(Received(incoming, message.mid, message.qos, self._connection))

    # Processing (the caller's thread).

    def run(self) -> None:
        """Load the device table, connect, and translate until `stop()`."""
        serve_metrics(self.metrics.registry, self.section.metrics_port, "bridge.metrics_port")
        while not self._stopping.is_set() and not self.refresh_devices(force=True):
            self._stopping.wait(2.0)  # nothing is read before the table is: messages wait
        stored: dict[str, str] = {}
        self._retry(lambda: stored.update(self.store.last_values()))
        self.translator.load_last(stored)
        v5 = self.section.protocol == "5"
        properties = None
        if v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self.section.session_expiry_s
        broker = self.settings.mqtt
        self.client.connect_async(
            broker.host,
            broker.port,
            keepalive=broker.keepalive_s,
            # 3.1.1 keeps the session through clean_session=False on the client instead.
            clean_start=False if v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=properties,
        )
        self.client.loop_start()
        try:
            while not self._stopping.is_set():
                if time.monotonic() >= self._next_refresh:
                    self.refresh_devices()
                batch = self._next_batch()
                if batch:
                    self.handle(batch)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            log.info("bridge stopped", **self.counts)

    def stop(self) -> None:
        """Ask `run()` to finish the batch in hand and return (safe from a signal handler)."""
        self._stopping.set()

    def wait_subscribed(self, timeout: float) -> bool:
        """Block until the broker confirmed the subscriptions (tests, the demo)."""
        return self._subscribed.wait(timeout)

    def refresh_devices(self, *, force: bool = False) -> bool:
        """Reload the device table if it changed; whether the bridge has a table to work with."""
        self._next_refresh = time.monotonic() + self.section.devices_refresh_s
        try:
            version = self.directory.version()
            if force or version != self._devices_version:
                self.translator.index = DeviceIndex(self.directory.mappings())
                self._devices_version = version
                self.metrics.devices.set(len(self.translator.index))
                log.info("device table loaded", devices=len(self.translator.index))
        except Exception as exc:  # the database is away: keep the table in hand
            log.warning("cannot read the device table", error=str(exc))
            return self._devices_version is not None
        return True

    def _next_batch(self) -> list[Received]:
        try:
            batch = [self._inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.section.batch_size:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def handle(self, batch: list[Received]) -> None:
        """Translate, publish, store, report, then acknowledge a batch of messages."""
        translations = [self.translator.translate(item.incoming) for item in batch]
        readings = [reading for t in translations for reading in t.readings]
        remember = {key: value for t in translations for key, value in t.remember.items()}
        letters = [
            letter
            for item, t in zip(batch, translations, strict=True)
            if (letter := _letter(item, t)) is not None
        ]
        if not self._publish(readings) or not self._retry(
            lambda: self.store.commit(remember, letters)
        ):
            return  # stopping: nothing acknowledged, the broker sends it all again
        for item, translation in zip(batch, translations, strict=True):
            self._count(translation)
            if translation.sighting is not None:
                self._report(translation.sighting, item.incoming)
            if item.qos > 0 and item.connection == self._connection:
                self.client.ack(item.mid, item.qos)

    def _publish(self, readings: list[Any]) -> bool:
        """Publish readings at QoS 1 and wait until the broker has them all (publishing again
        what it did not take); False if asked to stop meanwhile."""
        pending = readings
        attempt = 0
        while pending:
            infos = [
                (
                    reading,
                    self.client.publish(
                        build_topic(reading.site, reading.device, MessageKind.SENSOR),
                        reading.model_dump_json(),
                        qos=1,
                    ),
                )
                for reading in pending
            ]
            deadline = time.monotonic() + self.section.publish_timeout_s
            for _, info in infos:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    info.wait_for_publish(remaining)
                except (ValueError, RuntimeError):
                    continue
            pending = [reading for reading, info in infos if not info.is_published()]
            if pending:
                self.metrics.retries.labels("publish").inc()
                log.warning("broker did not take readings; publishing again", count=len(pending))
                delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)]
                attempt += 1
                if self._stopping.wait(delay):
                    return False
        return True

    def _retry(self, action: Callable[[], None]) -> bool:
        """Run `action` until Redis takes it; False if asked to stop meanwhile."""
        attempt = 0
        while True:
            try:
                action()
                return True
            except redis.RedisError as exc:
                self.metrics.retries.labels("redis").inc()
                delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)]
                attempt += 1
                log.error("redis unavailable; retrying", error=str(exc), retry_in_s=delay)
                if self._stopping.wait(delay):
                    return False

    def _count(self, translation: Translation) -> None:
        self.metrics.messages.labels(translation.outcome).inc()
        for reading in translation.readings:
            repeated = "yes" if reading.attributes.get("repeated") else "no"
            self.metrics.readings.labels(reading.sensor_type.value, repeated).inc()
        if translation.dead_letter is not None:
            self.metrics.deadlettered.labels(translation.dead_letter.reason).inc()
            log.warning(
                "dead-lettered",
                reason=translation.dead_letter.reason,
                detail=translation.dead_letter.detail,
            )

    def _report(self, sighting: Sighting, incoming: Incoming) -> None:
        """Put a device nobody assigned, or whose message was unreadable, on the unassigned list
        (at most every `unassigned_report_s` per device and reason)."""
        key = (sighting.protocol, sighting.address, sighting.reason)
        now = time.monotonic()
        if now - self._reported.get(key, -1e12) < self.section.unassigned_report_s:
            return
        try:
            self.directory.report_unassigned(
                protocol=sighting.protocol,
                address=sighting.address,
                reason=sighting.reason,
                detail=sighting.detail,
                friendly_name=sighting.friendly_name,
                model=sighting.model,
                suggested_kinds=sighting.suggested_kinds,
                payload=incoming.payload.decode("utf-8", "replace"),
                seen_at=incoming.received_at,
            )
        except Exception as exc:  # the dead letter has it anyway; try again next time
            log.warning("unassigned device not noted", address=sighting.address, error=str(exc))
            return
        self._reported[key] = now


def _letter(item: Received, translation: Translation) -> Letter | None:
    if translation.dead_letter is None:
        return None
    return Letter(
        topic=item.incoming.topic,
        reason=translation.dead_letter.reason,
        detail=translation.dead_letter.detail,
        payload=item.incoming.payload,
        received_ms=int(item.incoming.received_at.timestamp() * 1000),
        qos=item.qos,
        retain=item.incoming.retain,
    )
