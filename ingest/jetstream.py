"""Ingest from a NATS cluster's MQTT front, read straight from JetStream.

NATS keeps the QoS 1 messages its MQTT clients publish in the JetStream stream `$MQTT_msgs`
(replicated over the cluster before the PUBACK), under subjects `$MQTT.msgs.<topic with / as
.>`. Every ingest worker pulls from one durable consumer filtered to the topic filter, so each
message goes to one worker; a worker acknowledges a message only once Redis accepted what it
became, and one it never acknowledges (the worker died) comes back after `ack_wait_s`.
De-duplication makes the second write a no-op. NATS needs no shared subscription and no
session per worker: stopping or adding workers moves nothing.
"""

import asyncio
import threading
import time
from typing import Any

import structlog

from ingest.config import IngestSettings
from ingest.core import IngestCore
from ingest.handling import Received
from shouwang.metrics_http import CounterTotals, serve_metrics

log = structlog.get_logger("shouwang.ingest")

SUBJECT_PREFIX = "$MQTT.msgs."
"""What NATS puts before the subject of an MQTT message it stores."""


def subject_filter(topic_filter: str) -> str:
    """The JetStream subject filter of an MQTT topic filter (`shouwang/#` →
    `$MQTT.msgs.shouwang.>`)."""
    levels = [
        "*" if level == "+" else ">" if level == "#" else level for level in topic_filter.split("/")
    ]
    return SUBJECT_PREFIX + ".".join(levels)


def topic_of(subject: str) -> str:
    """The MQTT topic of a stored message's subject (NATS 2.9 refuses `.` in MQTT topics, so
    every `.` was a `/`)."""
    return subject.removeprefix(SUBJECT_PREFIX).replace(".", "/")


class JetStreamWorker:
    """One ingest worker on the shared durable consumer. `run()` blocks until `stop()`."""

    def __init__(self, settings: IngestSettings, *, metrics_port: int | None = None) -> None:
        self.settings = settings
        config = settings.ingest
        self.worker_id = config.worker_id
        self.log = log.bind(worker=self.worker_id)
        self.metrics_port = config.metrics_port if metrics_port is None else metrics_port
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._connected = False
        self.core = IngestCore(settings, self.log, self._stopping)
        self.metrics = self.core.metrics

    @property
    def counts(self) -> CounterTotals:
        """Messages received, accepted, duplicates, dead-lettered and Redis errors, live."""
        return self.metrics.counts

    def run(self, *, retire_after_idle_s: float | None = None) -> None:
        """Consume until stop(). (Retiring is for MQTT sessions: a JetStream worker holds
        nothing when it stops, so it returns at once.)"""
        if retire_after_idle_s is not None:
            self.log.info("retired: a JetStream worker keeps no session")
            return
        serve_metrics(self.metrics.registry, self.metrics_port, "ingest.metrics_port")
        try:
            asyncio.run(self._main())
        finally:
            self.core.write_state({"connected": False, "queue_depth": 0}, stopped=True)
            self.core.redis.close()
            self.log.info("stopped", **dict(self.counts))

    def stop(self) -> None:
        """Ask run() to finish the batch in hand and return. Safe from any thread or signal."""
        self._stopping.set()

    def wait_subscribed(self, timeout: float) -> bool:
        """Block until the durable consumer is bound (for tests and the demo)."""
        return self._ready.wait(timeout)

    async def _main(self) -> None:
        import nats
        from nats.errors import TimeoutError as NatsTimeout

        jet = self.settings.ingest.jetstream
        connection = await nats.connect(
            servers=jet.servers,
            name=f"shouwang-ingest-{self.worker_id}",
            user=jet.user,
            password=jet.password.get_secret_value() if jet.password else None,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            disconnected_cb=self._disconnected,
            reconnected_cb=self._reconnected,
        )
        self._connected = True
        try:
            subscription = await self._bind(connection)
            next_state, batch_size = 0.0, self.settings.ingest.batch_size
            while not self._stopping.is_set():
                if time.monotonic() >= next_state:
                    await asyncio.to_thread(self._write_state)
                    next_state = time.monotonic() + self.settings.ingest.state_interval_s
                try:
                    messages = await subscription.fetch(batch_size, timeout=0.5)
                except NatsTimeout:
                    continue
                except Exception as exc:  # the server we fetched from went away: nats reconnects
                    self.log.warning("fetch failed; retrying", error=str(exc))
                    await asyncio.sleep(0.5)
                    continue
                await self._process(messages)
        finally:
            await connection.close()

    async def _bind(self, connection: Any) -> Any:
        """Bind to the shared durable consumer, creating it if this is the first worker;
        waits while the MQTT stream does not exist yet (no MQTT client has connected)."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        jet = self.settings.ingest.jetstream
        js = connection.jetstream()
        config = ConsumerConfig(
            durable_name=jet.durable,
            filter_subject=subject_filter(self.settings.ingest.topic_filter),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=jet.ack_wait_s,
            max_ack_pending=jet.max_ack_pending,
            max_deliver=-1,
        )
        while not self._stopping.is_set():
            try:
                await js.add_consumer(jet.stream, config)
                subscription = await js.pull_subscribe_bind(jet.durable, stream=jet.stream)
            except NotFoundError:
                self.log.info("waiting for the MQTT stream", stream=jet.stream)
                await asyncio.sleep(1)
                continue
            except Exception as exc:  # the cluster is electing, a node is away
                self.log.warning("cannot bind the consumer yet", error=str(exc))
                await asyncio.sleep(1)
                continue
            self._ready.set()
            self.log.info("consuming", stream=jet.stream, durable=jet.durable)
            return subscription
        raise asyncio.CancelledError

    async def _process(self, messages: list[Any]) -> None:
        now = time.time()
        batch = [
            Received(
                topic=topic_of(message.subject),
                payload=bytes(message.data),
                qos=1,
                mid=message.metadata.sequence.stream,
                retain=False,
                received_at=now,
                connection=0,
            )
            for message in messages
        ]
        self.metrics.queue_depth.set(len(batch))
        if not await asyncio.to_thread(self.core.store_batch, batch):
            return  # stopping while Redis is down: unacknowledged, they come back
        for message in messages:
            await message.ack()

    def _write_state(self) -> None:
        self.core.write_state({"connected": self._connected, "queue_depth": 0})

    async def _disconnected(self) -> None:
        self._connected = False
        self.metrics.connected.set(0)
        if not self._stopping.is_set():
            self.log.warning("disconnected from NATS; reconnecting")

    async def _reconnected(self) -> None:
        self._connected = True
        self.metrics.connected.set(1)
        self.log.info("reconnected to NATS")
