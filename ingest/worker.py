"""The ingest worker: MQTT in, contract validation, idempotent Redis writes, then the MQTT ack.

A message is acknowledged to the broker (QoS 1 PUBACK) only after Redis accepted what it
became, so a crash at any point loses nothing: unacknowledged messages stay with the broker
in this worker's persistent session and come back, and de-duplication makes the second write
a no-op. Back-pressure is MQTT flow control: the broker sends at most `receive_maximum`
unacknowledged messages, so when Redis is slow or down, messages wait at the broker.
"""

import queue
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import redis
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from ingest.broker_stats import SYS_FILTER, parse_sys_message
from ingest.config import IngestSettings
from ingest.core import IngestCore
from ingest.handling import Received
from shouwang.metrics_http import CounterTotals, serve_metrics
from shouwang.mqtt import mqtt_client

log = structlog.get_logger("shouwang.ingest")


def shared_filter(topic_filter: str, share_group: str | None) -> str:
    """`topic_filter` as a shared subscription of `share_group`, if there is one."""
    return f"$share/{share_group}/{topic_filter}" if share_group else topic_filter


class IngestWorker:
    """One ingest worker. `run()` blocks until `stop()` is called (from a signal handler)."""

    def __init__(self, settings: IngestSettings, *, metrics_port: int | None = None) -> None:
        self.settings = settings
        config = settings.ingest
        self.worker_id = config.worker_id
        self.client_id = f"shouwang-ingest-{config.worker_id}"
        self.metrics_port = config.metrics_port if metrics_port is None else metrics_port
        self.broker_stats: dict[str, float] = {}
        self.log = log.bind(worker=self.worker_id)
        self._inbox: queue.Queue[Received] = queue.Queue()
        self._connection = 0
        self._subscribed = threading.Event()
        self._unsubscribed = threading.Event()
        self._stopping = threading.Event()
        self.subscription = shared_filter(config.topic_filter, config.share_group)
        self._stale_subscription: str | None = None
        self.core = IngestCore(settings, self.log, self._stopping)
        self.metrics = self.core.metrics
        self.store = self.core.store
        self.redis = self.core.redis
        self.client = self._make_client()

    @property
    def counts(self) -> CounterTotals:
        """Messages received, accepted, duplicates, dead-lettered and Redis errors, live."""
        return self.metrics.counts

    # -- MQTT side (runs on paho's network thread) -------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt_client(
            self.settings.mqtt,
            self.client_id,
            v5=self.settings.ingest.protocol == "5",
            persistent=True,
            manual_ack=True,
        )
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_connect_fail = self._on_connect_fail
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = lambda *_args: self._unsubscribed.set()
        return client

    def _connect_properties(self) -> Properties | None:
        if self.settings.ingest.protocol != "5":
            return None
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.settings.ingest.session_expiry_s
        properties.ReceiveMaximum = self.settings.ingest.receive_maximum
        return properties

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            self.log.error("broker refused connection", reason=str(reason))
            return
        self._connection += 1
        self.metrics.connected.set(1)
        if self._stale_subscription:
            # A persistent session keeps its subscriptions: drop the one the config no longer
            # asks for, or this worker would go on receiving (and sharing) its messages.
            client.unsubscribe(self._stale_subscription)
            self.log.info("dropped the session's old subscription", old=self._stale_subscription)
        topics = [(self.subscription, 1)]
        if self.settings.ingest.broker_stats:
            topics.append((SYS_FILTER, 0))
        client.subscribe(topics)
        self.log.info(
            "connected to broker",
            broker=f"{self.settings.mqtt.host}:{self.settings.mqtt.port}",
            session_present=bool(flags.session_present),
            subscription=topics[0][0],
        )

    def _on_subscribe(self, *_args: Any) -> None:
        self._stale_subscription = None
        try:
            expiry = self.settings.ingest.session_expiry_s
            self.store.remember_subscription(self.worker_id, self.subscription, expiry)
        except redis.RedisError as exc:
            self.log.warning("could not remember the subscription", error=str(exc))
        self._subscribed.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        # Messages received on the old connection are still written, but no longer
        # acknowledged: the broker sends them again and de-duplication absorbs them.
        self._connection += 1
        self.metrics.connected.set(0)
        if not self._stopping.is_set():
            self.log.warning("disconnected from broker; reconnecting", reason=str(reason))

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        self.log.warning(
            "cannot reach broker; retrying",
            broker=f"{self.settings.mqtt.host}:{self.settings.mqtt.port}",
        )

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(
            Received(
                topic=message.topic,
                payload=bytes(message.payload),
                qos=message.qos,
                mid=message.mid,
                retain=bool(message.retain),
                received_at=time.time(),
                connection=self._connection,
            )
        )

    # -- Processing (runs on the caller's thread) ---------------------------------------------

    def run(self, *, retire_after_idle_s: float | None = None) -> None:
        """Consume until stop(); with `retire_after_idle_s`, end the session once drained.

        Retiring removes this worker from the shared group for good: it takes what the broker
        kept for it, stores it, unsubscribes and ends its session.
        """
        serve_metrics(self.metrics.registry, self.metrics_port, "ingest.metrics_port")
        try:
            previous = self.store.previous_subscription(self.worker_id)
        except redis.RedisError as exc:
            previous = None
            self.log.warning("could not read the previous subscription", error=str(exc))
        if previous and previous != self.subscription:
            self._stale_subscription = previous
        v5 = self.settings.ingest.protocol == "5"
        self.client.connect_async(
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            keepalive=self.settings.mqtt.keepalive_s,
            # 3.1.1 keeps the session through clean_session=False on the client instead.
            clean_start=False if v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=self._connect_properties(),
        )
        self.client.loop_start()
        next_state = 0.0
        idle_since = time.monotonic()
        try:
            while not self._stopping.is_set():
                batch = self._next_batch()
                if batch:
                    self._process(batch)
                    idle_since = time.monotonic()
                elif (
                    retire_after_idle_s is not None
                    and self._subscribed.is_set()
                    and time.monotonic() - idle_since >= retire_after_idle_s
                ):
                    self._retire()
                    break
                if time.monotonic() >= next_state:
                    self._write_state()
                    next_state = time.monotonic() + self.settings.ingest.state_interval_s
        finally:
            self._shutdown()

    def stop(self) -> None:
        """Ask run() to finish the batch in hand and return. Safe from any thread or signal."""
        self._stopping.set()

    def wait_subscribed(self, timeout: float) -> bool:
        """Block until the broker confirmed the subscription (for tests and the demo)."""
        return self._subscribed.wait(timeout)

    def _next_batch(self) -> list[Received]:
        config = self.settings.ingest
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + config.batch_wait_ms / 1000
        while len(batch) < config.batch_size:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._inbox.get(timeout=remaining))
                except queue.Empty:
                    break
        self.metrics.queue_depth.set(self._inbox.qsize())
        return batch

    def _process(self, batch: list[Received]) -> None:
        messages: list[Received] = []
        for message in batch:
            if message.topic.startswith("$SYS/"):
                self._record_broker_stat(message)
            else:
                messages.append(message)
        if not messages or not self.core.store_batch(messages):
            return  # stopping while Redis is down: nothing acked, the broker keeps it all
        for message in messages:
            if message.qos > 0 and message.connection == self._connection:
                self.client.ack(message.mid, message.qos)

    def _record_broker_stat(self, message: Received) -> None:
        stat = parse_sys_message(message.topic, message.payload)
        if stat is not None:
            name, value = stat
            self.broker_stats[name] = value
            self.metrics.broker.labels(name).set(value)

    def _write_state(self, *, stopped: bool = False) -> None:
        live = {
            "connected": self.client.is_connected(),
            "queue_depth": self._inbox.qsize(),
            "broker": self.broker_stats,
        }
        self.core.write_state(live, stopped=stopped)

    def _retire(self) -> None:
        """Unsubscribe, store whatever arrived meanwhile, then end the session."""
        self._unsubscribed.clear()
        self.client.unsubscribe(self.subscription)
        if not self._unsubscribed.wait(10):
            self.log.error("broker did not confirm unsubscribe; session kept")
            return
        while batch := self._next_batch():
            self._process(batch)
        self._stopping.set()
        self.log.info("retired: session drained and ended")
        properties = None
        if self.settings.ingest.protocol == "5":
            properties = Properties(PacketTypes.DISCONNECT)
            properties.SessionExpiryInterval = 0
        self.client.disconnect(properties=properties)

    def _shutdown(self) -> None:
        self._stopping.set()
        if self.client.is_connected():
            self.client.disconnect()
        self.client.loop_stop()
        self._write_state(stopped=True)
        self.redis.close()
        self.log.info("stopped", **dict(self.counts))
