"""Prometheus metrics of one ingest worker (own registry, so several workers fit one process)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shouwang.metrics_http import CounterTotals

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
AGE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class IngestMetrics:
    """Counters and histograms exported on the worker's /metrics endpoint."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "shouwang_ingest_received", "Messages received from the broker.", ["kind"], registry=r
        )
        self.accepted = Counter(
            "shouwang_ingest_accepted",
            "Messages validated and stored (stream entry, snapshot or edge state).",
            ["kind"],
            registry=r,
        )
        self.duplicates = Counter(
            "shouwang_ingest_duplicates",
            "Messages whose idempotency key was already stored.",
            ["kind"],
            registry=r,
        )
        self.deadlettered = Counter(
            "shouwang_ingest_deadlettered",
            "Messages rejected to the dead-letter stream.",
            ["reason"],
            registry=r,
        )
        self.redis_errors = Counter(
            "shouwang_ingest_redis_errors",
            "Batches that Redis did not accept (retried).",
            registry=r,
        )
        self.unreplicated = Counter(
            "shouwang_ingest_unreplicated",
            "Messages stored on their Redis master but confirmed by fewer replicas than "
            "`redis.replica_acks` in time (a failover now could lose them).",
            registry=r,
        )
        self.processing = Histogram(
            "shouwang_ingest_processing_seconds",
            "From receipt of a message to Redis accepting it.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.event_age = Histogram(
            "shouwang_ingest_event_age_seconds",
            "From an event's observed_at (set on the edge) to Redis accepting it: ingest lag "
            "including network, broker and replay delays.",
            buckets=AGE_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "shouwang_ingest_batch_size",
            "Messages per Redis round trip.",
            buckets=(1, 5, 20, 50, 100, 200, 500, 1000, 5000),
            registry=r,
        )
        self.queue_depth = Gauge(
            "shouwang_ingest_queue_depth",
            "Messages received and not yet written (bounded by the MQTT receive maximum).",
            registry=r,
        )
        self.connected = Gauge(
            "shouwang_ingest_broker_connected", "1 while connected to the broker.", registry=r
        )
        self.broker = Gauge(
            "shouwang_broker_stat",
            "Broker counters from $SYS (e.g. messages_dropped: messages the broker discarded "
            "because a client's queue was full; rising means loss).",
            ["name"],
            registry=r,
        )

        self.counts = CounterTotals(
            {
                "received": self.received,
                "accepted": self.accepted,
                "duplicates": self.duplicates,
                "deadlettered": self.deadlettered,
                "redis_errors": self.redis_errors,
                "unreplicated": self.unreplicated,
            }
        )
        """The message counters summed over their labels: what the worker's state in Redis
        and its last log line report."""
