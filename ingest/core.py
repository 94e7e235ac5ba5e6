"""What every ingest front end shares (the MQTT subscriber, the JetStream consumer): turning a
batch of received messages into Redis writes, writing them until Redis takes them, counting,
and the worker's state for `shouwang health`. The front end acknowledges a batch to its broker
only once `store` returned True."""

import itertools
import threading
import time
from collections.abc import Mapping
from typing import Any

import redis

from ingest.config import IngestSettings
from ingest.handling import Handled, MessageHandler, Received
from ingest.metrics import IngestMetrics
from ingest.snapshots import SnapshotStore
from ingest.store import RedisStore, Write, Written
from shouwang import __version__
from shouwang.partitions import Partitioner
from shouwang.redis_client import CLUSTER_OUTAGE, connect, refresh

RETRY_DELAYS_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
REDIS_ERRORS = (redis.RedisError, *CLUSTER_OUTAGE)
"""What makes a batch wait and go again: Redis errors, a cluster moving slots or failing over."""


class IngestCore:
    """Plans, stores (retrying until Redis accepts) and counts batches for one worker."""

    def __init__(self, settings: IngestSettings, log: Any, stopping: threading.Event) -> None:
        config = settings.ingest
        self.settings = settings
        self.worker_id = config.worker_id
        self.log = log
        self.stopping = stopping
        self.started = time.time()
        self.metrics = IngestMetrics()
        self.redis = connect(settings.redis, socket_timeout=10)
        self.store = RedisStore(
            self.redis,
            stream=config.stream,
            stream_maxlen=config.stream_maxlen,
            deadletter_stream=config.deadletter_stream,
            deadletter_maxlen=config.deadletter_maxlen,
            dedup_ttl_s=config.dedup_ttl_s,
            replica_acks=settings.redis.replica_acks,
            replica_wait_ms=settings.redis.replica_wait_ms,
        )
        self.handler = MessageHandler(
            SnapshotStore(config.snapshot_dir, config.max_snapshot_bytes, config.max_clip_bytes),
            max_payload_bytes=config.max_payload_bytes,
            max_clip_payload_bytes=config.max_clip_payload_bytes,
            worker_id=self.worker_id,
            partitioner=Partitioner(settings.partitions),
        )

    def store_batch(self, batch: list[Received]) -> bool:
        """Validate and store `batch`; False if asked to stop while Redis was away (nothing of
        it may be acknowledged then: the broker keeps it all)."""
        messages = [(message, self.handler.handle(message)) for message in batch]
        if not messages:
            return True
        writes = [write for _, handled in messages for write in handled.writes]
        written = self._write_with_retry(writes)
        if written is None:
            return False
        committed = time.time()
        if written.new_partitions:
            self.log.info("new partitions", partitions=written.new_partitions)
        if written.unreplicated:
            self.metrics.unreplicated.inc(written.unreplicated)
            self.log.warning(
                "stored without the replicas asked for",
                messages=written.unreplicated,
                replica_acks=self.settings.redis.replica_acks,
            )
        self.metrics.batch_size.observe(len(messages))
        position = 0
        for message, handled in messages:
            first_outcome = written.outcomes[position] if handled.writes else None
            position += len(handled.writes)
            self._count(message, handled, first_outcome, committed)
        return True

    def _write_with_retry(self, writes: list[Write]) -> Written | None:
        """Write until Redis accepts, backing off; None if asked to stop meanwhile."""
        for attempt in itertools.count():
            try:
                return self.store.write(writes)
            except REDIS_ERRORS as exc:
                self.metrics.redis_errors.inc()
                delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)]
                self.log.error(
                    "redis did not accept batch; retrying", error=str(exc), retry_in_s=delay
                )
                if self.stopping.wait(delay):
                    return None
                refresh(self.redis)
        raise AssertionError("unreachable")

    def _count(
        self, message: Received, handled: Handled, outcome: bool | None, committed: float
    ) -> None:
        kind = handled.kind
        self.metrics.received.labels(kind).inc()
        self.metrics.processing.observe(committed - message.received_at)
        if handled.rejected:
            self.metrics.deadlettered.labels(handled.rejected).inc()
            self.log.warning(
                "dead-lettered", topic=message.topic, reason=handled.rejected, kind=kind
            )
            return
        if outcome is False:
            self.metrics.duplicates.labels(kind).inc()
            return
        self.metrics.accepted.labels(kind).inc()
        if handled.observed_at is not None:
            self.metrics.event_age.observe(max(0.0, committed - handled.observed_at))

    def write_state(self, live: Mapping[str, Any], *, stopped: bool = False) -> None:
        """Publish the worker's counters and `live` state (connected, queue depth, broker
        counters) for the health view; a Redis error is logged, not raised."""
        state = {
            "stopped": stopped,
            "worker": self.worker_id,
            "version": __version__,
            "started_ms": int(self.started * 1000),
            **live,
            "counts": dict(self.metrics.counts),
        }
        ttl = max(60, int(self.settings.ingest.state_interval_s * 20))
        try:
            self.store.write_worker_state(self.worker_id, state, ttl)
        except REDIS_ERRORS as exc:
            self.log.warning("could not write worker state", error=str(exc))
