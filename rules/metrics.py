"""Prometheus view of one rules worker: what it decided (counters) and how far its consumer
group is behind on the events stream (gauges read from Redis when scraped)."""

from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter

from shouwang.metrics_http import CounterTotals
from shouwang.metrics_http import serve_metrics as serve_registry
from shouwang.streams import GroupBacklog

if TYPE_CHECKING:
    from rules.consumer import RulesConsumer
    from rules.partitioned import PartitionedWorker

COUNTS = {
    "processed": "Stream entries decided and acknowledged.",
    "alerts_created": "Alerts raised.",
    "alerts_updated": "Alerts that took in a repeated event (grouping, cooldown).",
    "conditions_ended": "Alerts whose condition ended (an `end` event; the alert stays open).",
    "held": "Starts held until their condition has lasted `hold_s`.",
    "escalations": "Escalation steps done (alerts not acknowledged in time).",
    "responses": "Alerts the response circle notified about (family responses…).",
    "reclaimed": "Entries taken over from a worker that stopped answering (XAUTOCLAIM).",
    "lock_conflicts": "Batches retried entry by entry after a deadlock with another worker.",
    "failures": "Entries that failed to be decided (retried; dead-lettered after N failures).",
    "deadlettered": "Entries given up on and moved to the dead-letter stream.",
}
"""The worker's counters, by name, with what each counts."""


class RulesMetrics:
    """The counters of one worker (own registry, so several fit one process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._counters = {
            name: Counter(f"shouwang_rules_{name}", about, registry=self.registry)
            for name, about in COUNTS.items()
        }
        self.counts = CounterTotals(self._counters)
        """Every counter's value by name, live (for logs and tests)."""

    def count(self, name: str, amount: int = 1) -> None:
        """Add `amount` to the counter `name` (one of `COUNTS`)."""
        self._counters[name].inc(amount)


def serve_metrics(worker: "RulesConsumer | PartitionedWorker", port: int) -> WSGIServer | None:
    """Export the worker's metrics, and its group's backlog (per partition it holds, with
    partitions), on `port` from a background thread (0: not at all); returns the server
    (`shutdown()` stops it). Raises `MetricsPortBusy` if it is taken."""
    from rules.partitioned import PartitionedWorker

    registry = worker.metrics.registry
    held = worker.held if isinstance(worker, PartitionedWorker) else None
    registry.register(GroupBacklog(worker.client, worker.section, "shouwang_rules", held))
    return serve_registry(registry, port, "rules.metrics_port")
