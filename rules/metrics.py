"""Prometheus view of one rules worker: what it decided (counters) and how far its consumer
group is behind on the events stream (gauges read from Redis when scraped)."""

from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

import redis
import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rules.consumer import RulesConsumer
from shouwang.metrics_http import serve_metrics as serve_registry

log = structlog.get_logger("shouwang.rules")

COUNTS = {
    "processed": "Stream entries decided and acknowledged.",
    "alerts_created": "Alerts raised.",
    "alerts_updated": "Alerts that took in a repeated event (grouping, cooldown).",
    "conditions_ended": "Alerts whose condition ended (an `end` event; the alert stays open).",
    "held": "Starts held until their condition has lasted `hold_s`.",
    "escalations": "Escalation steps done (alerts not acknowledged in time).",
    "reclaimed": "Entries taken over from a worker that stopped answering (XAUTOCLAIM).",
    "lock_conflicts": "Batches retried entry by entry after a deadlock with another worker.",
    "failures": "Entries that failed to be decided (retried; dead-lettered after N failures).",
    "deadlettered": "Entries given up on and moved to the dead-letter stream.",
}
"""The worker's counts, by name, with what each counts."""


class RulesCollector(Collector):
    """The counts of a worker, and its group's lag and pending entries at scrape time."""

    def __init__(self, consumer: RulesConsumer) -> None:
        self.consumer = consumer

    def collect(self) -> Iterator[Metric]:
        counts = dict(self.consumer.counts)
        for name, about in COUNTS.items():
            yield CounterMetricFamily(f"shouwang_rules_{name}", about, value=counts.get(name, 0))
        section = self.consumer.section
        try:
            groups = self.consumer.client.xinfo_groups(section.stream)
        except redis.RedisError as exc:  # no stream yet, or Redis away: no backlog figures
            log.debug("metrics: no group info", error=str(exc))
            return
        group = next((g for g in groups if g["name"] == section.group), None)
        if group is None:
            return
        yield GaugeMetricFamily(
            "shouwang_rules_group_pending",
            "Entries read by the group's workers and not yet acknowledged.",
            value=int(group["pending"]),
        )
        if group.get("lag") is not None:
            yield GaugeMetricFamily(
                "shouwang_rules_group_lag",
                "Entries on the events stream the group has not read yet.",
                value=int(group["lag"]),
            )


def serve_metrics(consumer: RulesConsumer, port: int) -> WSGIServer | None:
    """Export the worker's metrics on `port` from a background thread (0: not at all);
    returns the server (`shutdown()` stops it). Raises `MetricsPortBusy` if it is taken."""
    registry = CollectorRegistry()
    registry.register(RulesCollector(consumer))
    return serve_registry(registry, port, "rules.metrics_port")
