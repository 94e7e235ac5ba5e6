"""`EdgePublisher`: delivers the edge agent's events to the broker, losing none.

Every event (and its snapshot) is written to the SQLite queue before `publish_event` returns, and
every evidence clip before `publish_clip` does.
One sender thread publishes queued messages in insertion order with QoS 1, at most
`max_inflight` unacknowledged at a time, paced by a token bucket; a message is deleted when its
PUBACK arrives. After every (re)connect the sender waits a random jitter if a backlog is waiting,
then replays from the oldest unacknowledged message. paho's own in-memory retry of unacknowledged
messages is switched off (`drop_out_messages` on connect), so the queue is the only source of
retries and the order of first arrival is the order of insertion.

A PUBACK saying the broker had no subscriber for the message (MQTT 5 reason code 0x10) does not
delete it: nobody received it. Mosquitto 2.0 does not keep shared subscriptions across its own
restart, so until the ingest workers have subscribed again the broker accepts events and hands
them to nobody. Such messages stay queued; the sender stops, waits (reconnect back-off) and
replays from the oldest message, until the broker has a subscriber again.
"""

import contextlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from edge.publish.config import PublisherSettings
from edge.publish.pacing import TokenBucket
from edge.publish.queue import (
    EvictionClass,
    MessageKind,
    OutboxQueue,
    Outgoing,
    QueueStats,
    Removed,
)
from edge.publish.session import Session
from shouwang.contracts import (
    BehaviourEvent,
    Clip,
    EdgeState,
    Heartbeat,
    Phase,
    Snapshot,
    build_topic,
)
from shouwang.contracts import MessageKind as WireKind
from shouwang.mqtt import mqtt_client
from shouwang.settings import MqttSettings

_BATCH = 64
_IDLE_WAIT_S = 1.0
_NO_MATCHING_SUBSCRIBERS = 0x10
"""MQTT 5 PUBACK reason code: accepted, but the broker delivered the message to nobody."""


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """What the publisher has done since `start()`."""

    queue: QueueStats
    connected: bool
    connects: int
    inflight: int
    rejected: int
    heartbeats_sent: int
    heartbeats_dropped: int
    unheard: int = 0
    """PUBACKs saying nobody subscribed (the message was kept and sent again later)."""


@dataclass(frozen=True, slots=True)
class _Ack:
    generation: int
    mid: int
    failed: bool
    reason: str
    unheard: bool = False


class EdgePublisher:
    """MQTT publisher of one edge agent with a durable store-and-forward queue.

    Thread-safe: any thread may call `publish_event` and `publish_heartbeat`.
    """

    def __init__(
        self,
        *,
        site: str,
        edge: str,
        mqtt_settings: MqttSettings,
        settings: PublisherSettings,
        heartbeat: Callable[[], Heartbeat] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.site = site
        self.edge = edge
        self.status_topic = build_topic(site, edge, WireKind.STATUS)
        self.heartbeat_topic = build_topic(site, edge, WireKind.HEARTBEAT)
        self.mqtt_settings = mqtt_settings
        self.settings = settings
        self.client_id = settings.client_id or f"shouwang-edge-{site}-{edge}"
        self._heartbeat_provider = heartbeat
        self._rng = rng or random.Random()
        self._log = structlog.get_logger("edge.publish").bind(site=site, edge=edge)

        self._queue: OutboxQueue | None = None
        self._client: mqtt.Client | None = None
        # Lock order: _pub_lock before _cond. Never call paho while holding _cond: paho calls
        # on_publish with its own message lock held, and on_publish takes _cond.
        self._pub_lock = threading.Lock()
        self._cond = threading.Condition()
        self._acks: deque[_Ack] = deque()
        self._wake = False
        self._connected = False
        self._generation = 0
        self._pending = Session.new(site, edge)
        self._session = self._pending
        self._state = "new"
        self._sender_exit = False
        self._inflight: dict[tuple[int, int], tuple[int, str]] = {}  # (session, mid) -> row
        self._threads: list[threading.Thread] = []
        self._connects = 0
        self._rejected = 0
        self._heartbeats_sent = 0
        self._heartbeats_dropped = 0
        self._unheard = 0
        self._unheard_retry_at: float | None = None  # set while waiting for a subscriber
        self._unheard_delay = float(settings.reconnect_min_s)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Open the queue and connect in the background; never raises because the broker is
        down (raises QueueError if the queue file cannot be used)."""
        if self._state != "new":
            raise RuntimeError(f"publisher already {self._state}; create a new one")
        self._queue = OutboxQueue(
            self.settings.queue_path,
            max_messages=self.settings.max_queued_messages,
            max_bytes=self.settings.max_queued_bytes,
        )
        self._client = self._make_client()
        self._state = "running"
        self._log.info(
            "publisher.started",
            client_id=self.client_id,
            broker=f"{self.mqtt_settings.host}:{self.mqtt_settings.port}",
            backlog=self._queue.depth,
            queue=str(self.settings.queue_path),
        )
        host, port = self.mqtt_settings.host, self.mqtt_settings.port
        keepalive = self.mqtt_settings.keepalive_s
        if self.settings.mqtt_version == "5":
            self._client.connect_async(host, port, keepalive=keepalive, clean_start=True)
        else:
            self._client.connect_async(host, port, keepalive=keepalive)
        self._client.loop_start()
        self._spawn("edge-publish-sender", self._run_sender)
        if self._heartbeat_provider is not None:
            self._spawn("edge-publish-heartbeat", self._run_heartbeats)

    def stop(self, timeout: float = 10.0, reason: str = "stopped") -> None:
        """Deliver what can be delivered within `timeout` seconds while connected, announce a
        clean `offline` status with `reason`, disconnect and close the queue file."""
        if self._state != "running":
            return
        assert self._client is not None and self._queue is not None
        deadline = time.monotonic() + timeout
        with self._cond:
            self._state = "stopping"
            self._wake = True
            self._cond.notify_all()
        while time.monotonic() < deadline and self.connected and self._queue.depth > 0:
            time.sleep(0.02)
        with self._cond:
            self._sender_exit = True
            self._wake = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=max(1.0, deadline - time.monotonic()))
        with self._pub_lock:
            info = None
            if self._connected:
                payload = self._session.status_payload(EdgeState.OFFLINE, reason)
                info = self._client.publish(self.status_topic, payload, qos=1, retain=True)
        if info is not None:
            # If the connection is lost meanwhile, the broker publishes the will instead.
            with contextlib.suppress(RuntimeError):
                info.wait_for_publish(timeout=max(0.5, deadline - time.monotonic()))
        self._client.disconnect()
        self._client.loop_stop()
        self._apply_acks()  # PUBACKs that arrived after the sender stopped
        stats = self._queue.stats()
        self._queue.close()
        self._state = "stopped"
        self._log.info(
            "publisher.stopped",
            reason=reason,
            left_queued=stats.depth,
            sent=stats.sent,
            evicted=stats.evicted,
            offline_announced=bool(info is not None and info.is_published()),
        )

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- public API ---------------------------------------------------------------------------

    def publish_event(self, event: BehaviourEvent, snapshot: Snapshot | None = None) -> None:
        """Queue `event` (and its `snapshot`) durably for delivery; returns once stored.

        Raises ValueError if the event belongs to another edge or the snapshot to another
        event, RuntimeError if the publisher is not running, sqlite3.Error if the disk fails.
        """
        if self._state != "running" or self._queue is None:
            raise RuntimeError(f"publisher is {self._state}: call start() before publish_event()")
        self._check_event(event, snapshot)
        update = event.phase is Phase.UPDATE
        messages = [
            Outgoing(
                kind=MessageKind.EVENT,
                eviction_class=EvictionClass.EVENT_UPDATE if update else EvictionClass.EVENT,
                event_id=event.event_id,
                topic=build_topic(event.site, event.camera, WireKind.EVENT),
                payload=event.model_dump_json().encode(),
            )
        ]
        if snapshot is not None:
            messages.append(
                Outgoing(
                    kind=MessageKind.SNAPSHOT,
                    eviction_class=EvictionClass.SNAPSHOT,
                    event_id=snapshot.event_id,
                    topic=build_topic(snapshot.site, snapshot.camera, WireKind.SNAPSHOT),
                    payload=snapshot.model_dump_json().encode(),
                )
            )
        ids = self._queue.put(messages)
        self._log.info(
            "event.queued",
            event_id=event.event_id,
            type=event.type.value,
            phase=event.phase.value,
            camera=event.camera,
            snapshot=snapshot is not None,
            stored=ids[0] is not None,
            depth=self._queue.depth,
        )
        with self._cond:
            self._wake = True
            self._cond.notify_all()

    def publish_clip(self, clip: Clip) -> None:
        """Queue an event's evidence clip durably for delivery (evicted first when the queue is
        full); returns once stored. Raises ValueError if the clip is from another site."""
        if self._state != "running" or self._queue is None:
            raise RuntimeError(f"publisher is {self._state}: call start() before publish_clip()")
        if clip.site != self.site:
            raise ValueError(f"clip {clip.event_id} is from {clip.site}, this site is {self.site}")
        message = Outgoing(
            kind=MessageKind.CLIP,
            eviction_class=EvictionClass.CLIP,
            event_id=clip.event_id,
            topic=build_topic(clip.site, clip.camera, WireKind.CLIP),
            payload=clip.model_dump_json().encode(),
        )
        [stored] = self._queue.put([message])
        self._log.info(
            "clip.stored",
            event_id=clip.event_id,
            camera=clip.camera,
            bytes=len(message.payload),
            stored=stored is not None,
            depth=self._queue.depth,
        )
        with self._cond:
            self._wake = True
            self._cond.notify_all()

    def publish_heartbeat(self, heartbeat: Heartbeat) -> bool:
        """Send `heartbeat` now with QoS 0 if connected (best effort, never queued)."""
        if heartbeat.site != self.site or heartbeat.edge != self.edge:
            raise ValueError(
                f"heartbeat is for {heartbeat.site}/{heartbeat.edge}, "
                f"this publisher is {self.site}/{self.edge}"
            )
        payload = heartbeat.model_dump_json().encode()
        with self._pub_lock:
            sent = False
            if self._connected and self._client is not None:
                info = self._client.publish(self.heartbeat_topic, payload, qos=0)
                sent = info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS
            if sent:
                self._heartbeats_sent += 1
            else:
                self._heartbeats_dropped += 1
        return sent

    @property
    def queue_depth(self) -> int:
        """Events waiting for a PUBACK (snapshots not counted), for the heartbeat."""
        return self._queue.event_depth if self._queue is not None else 0

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._connected

    @property
    def session_id(self) -> str:
        """Id of the current (or most recent) connection, for heartbeats."""
        return self._session.session_id

    def stats(self) -> PublisherStats:
        """Counters: queued, sent, evicted by class, heartbeats, connects."""
        queue = self._queue.stats() if self._queue is not None else QueueStats()
        return PublisherStats(
            queue=queue,
            connected=self._connected,
            connects=self._connects,
            inflight=len(self._inflight),
            rejected=self._rejected,
            heartbeats_sent=self._heartbeats_sent,
            heartbeats_dropped=self._heartbeats_dropped,
            unheard=self._unheard,
        )

    def wait_until_delivered(self, timeout: float) -> bool:
        """Block until the queue is empty or `timeout` passes; True if it is empty."""
        deadline = time.monotonic() + timeout
        while self._queue is not None and self._queue.depth > 0:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    # -- paho callbacks (network thread) ------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt_client(
            self.mqtt_settings,
            self.client_id,
            v5=self.settings.mqtt_version == "5",
            persistent=False,
        )
        # Room for the status message beside the events the sender keeps in flight.
        client.max_inflight_messages_set(self.settings.max_inflight + 4)
        client.reconnect_delay_set(self.settings.reconnect_min_s, self.settings.reconnect_max_s)
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        session = Session.new(self.site, self.edge)
        self._pending = session
        will = session.status_payload(EdgeState.OFFLINE, "connection lost")
        client.will_set(self.status_topic, will, qos=1, retain=True)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            self._log.error("mqtt.connect_refused", reason=str(reason_code))
            return
        with self._pub_lock:
            client.drop_out_messages()  # the queue, not paho, retries unacknowledged messages
            self._session = self._pending
            online = self._session.status_payload(EdgeState.ONLINE)
            client.publish(self.status_topic, online, qos=1, retain=True)
            with self._cond:
                self._generation += 1
                self._connected = True
                self._connects += 1
                self._wake = True
                self._cond.notify_all()
        self._log.info(
            "mqtt.connected",
            session_id=self._session.session_id,
            backlog=self._queue.depth if self._queue else 0,
        )

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._log.debug("mqtt.connect_failed", broker=f"{self.mqtt_settings.host}")

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        with self._cond:
            was_connected = self._connected
            self._connected = False
            self._wake = True
            self._cond.notify_all()
        if was_connected and self._state == "running":
            self._log.warning("mqtt.disconnected", reason=str(reason_code))

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        # Runs with paho's message lock held: only hand the ack over, never call paho here.
        with self._cond:
            unheard = reason_code.value == _NO_MATCHING_SUBSCRIBERS
            ack = _Ack(self._generation, mid, reason_code.is_failure, str(reason_code), unheard)
            self._acks.append(ack)
            self._wake = True
            self._cond.notify_all()

    # -- sender thread ------------------------------------------------------------------------

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _apply_acks(self) -> None:
        """Delete acknowledged messages (one transaction for all acks waiting); keep those
        the broker handed to nobody, and schedule sending them again."""
        assert self._queue is not None
        with self._cond:
            acks = list(self._acks)
            self._acks.clear()
        row_ids: list[int] = []
        unheard: list[str] = []
        for ack in acks:
            row = self._inflight.pop((ack.generation, ack.mid), None)
            if row is None:
                continue  # status message, or a session that has ended
            if ack.unheard:
                unheard.append(row[1])
                continue
            row_ids.append(row[0])
            if ack.failed:  # e.g. not authorised: retrying cannot help, so it is not kept
                self._rejected += 1
                self._log.error("event.rejected_by_broker", event_id=row[1], reason=ack.reason)
        if row_ids and not unheard:
            self._unheard_delay = float(self.settings.reconnect_min_s)  # someone listens again
        if unheard:
            self._unheard += len(unheard)
            if self._unheard_retry_at is None:
                self._unheard_retry_at = time.monotonic() + self._unheard_delay
                self._log.warning(
                    "event.no_subscribers",
                    event_id=unheard[0],
                    kept=len(unheard),
                    retry_in_s=self._unheard_delay,
                )
                self._unheard_delay = min(
                    self._unheard_delay * 2, float(self.settings.reconnect_max_s)
                )
        for removed in self._queue.ack(row_ids):
            self._log_delivered(removed)

    def _log_delivered(self, removed: Removed) -> None:
        self._log.debug("event.delivered", event_id=removed.event_id, kind=removed.kind.value)

    def _wait(self, timeout: float) -> None:
        """Sleep until woken (event, ack, connect, stop) or `timeout`."""
        with self._cond:
            if not self._wake and not self._sender_exit:
                self._cond.wait(timeout)
            self._wake = False

    def _run_sender(self) -> None:
        while not self._sender_exit:
            try:
                self._send_loop()
            except Exception:  # e.g. a disk error: keep the service alive and retry
                self._log.exception("sender.failed", retry_in_s=_IDLE_WAIT_S)
                self._inflight.clear()  # start over from the oldest message: at least once
                time.sleep(_IDLE_WAIT_S)

    def _send_loop(self) -> None:
        assert self._queue is not None and self._client is not None
        bucket = TokenBucket(self.settings.replay_rate, self.settings.replay_burst)
        seen_generation = 0
        cursor = 0  # highest queue id handed to the broker in this session
        replay: tuple[float, int] | None = None  # (started, backlog) while replaying
        while True:
            with self._cond:
                if self._sender_exit:
                    break
                connected, generation = self._connected, self._generation
                self._wake = False
            self._apply_acks()
            if generation != seen_generation:  # new session: replay from the oldest message
                seen_generation, cursor = generation, 0
                self._inflight.clear()
                self._unheard_retry_at = None
                backlog = self._queue.depth
                if backlog and not self._jitter(generation, backlog):
                    continue
                bucket.reset()
                replay = (time.monotonic(), self._queue.depth) if backlog else None
            if not connected:
                self._wait(_IDLE_WAIT_S)
                continue
            if self._unheard_retry_at is not None:  # nobody subscribed to some messages
                wait = self._unheard_retry_at - time.monotonic()
                if self._inflight or wait > 0:  # let the window's acks in, then back off
                    self._wait(wait if wait > 0 else _IDLE_WAIT_S)
                    continue
                self._unheard_retry_at = None
                cursor = 0  # send again from the oldest message still queued
                bucket.reset()
            free = self.settings.max_inflight - len(self._inflight)
            if free <= 0:
                self._wait(_IDLE_WAIT_S)
                continue
            tokens = bucket.available()
            if tokens <= 0:
                self._wait(bucket.wait_time())
                continue
            rows = self._queue.peek_after(cursor, min(free, tokens, _BATCH))
            if not rows:
                if replay is not None and not self._inflight and self._queue.depth == 0:
                    started, backlog = replay
                    elapsed = round(time.monotonic() - started, 3)
                    self._log.info("replay.done", backlog=backlog, seconds=elapsed)
                    replay = None
                self._wait(_IDLE_WAIT_S)
                continue
            for row in rows:
                with self._pub_lock:
                    if not self._connected or self._generation != seen_generation:
                        break
                    info = self._client.publish(row.topic, row.payload, qos=1)
                if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                    self._log.error("mqtt.publish_failed", event_id=row.event_id, rc=str(info.rc))
                    break
                self._inflight[(seen_generation, info.mid)] = (row.id, row.event_id)
                cursor = row.id
                bucket.take()

    def _jitter(self, generation: int, backlog: int) -> bool:
        """Wait a random 0..replay_jitter_s before replaying; False if interrupted."""
        if self.settings.replay_jitter_s <= 0 or self._state != "running":
            return True
        delay = self._rng.uniform(0, self.settings.replay_jitter_s)
        self._log.info("replay.waiting", backlog=backlog, jitter_s=round(delay, 3))
        deadline = time.monotonic() + delay
        with self._cond:
            while True:
                if self._sender_exit or self._generation != generation or self._state != "running":
                    return self._generation == generation and not self._sender_exit
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return True
                self._cond.wait(remaining)

    # -- heartbeat thread ---------------------------------------------------------------------

    def _run_heartbeats(self) -> None:
        assert self._heartbeat_provider is not None
        interval = self.settings.heartbeat_interval_s
        next_at = time.monotonic()
        while True:
            with self._cond:
                timeout = max(0.0, next_at - time.monotonic())
                while not self._sender_exit and timeout > 0:
                    self._cond.wait(timeout)
                    timeout = next_at - time.monotonic()
                if self._sender_exit:
                    return
            next_at += interval
            if not self._connected:
                continue
            try:
                self.publish_heartbeat(self._heartbeat_provider())
            except Exception:
                self._log.exception("heartbeat.failed")

    # -- checks -------------------------------------------------------------------------------

    def _check_event(self, event: BehaviourEvent, snapshot: Snapshot | None) -> None:
        if event.site != self.site or event.edge != self.edge:
            raise ValueError(
                f"event {event.event_id} is from {event.site}/{event.edge}, "
                f"this publisher is {self.site}/{self.edge}"
            )
        if snapshot is None:
            return
        if (snapshot.event_id, snapshot.site, snapshot.camera) != (
            event.event_id,
            event.site,
            event.camera,
        ):
            raise ValueError(
                f"snapshot for {snapshot.site}/{snapshot.camera}/{snapshot.event_id} "
                f"does not belong to event {event.site}/{event.camera}/{event.event_id}"
            )
        if event.snapshot is not None and event.snapshot.sha256 != snapshot.sha256:
            raise ValueError(f"event {event.event_id}: snapshot sha256 differs from event.snapshot")
