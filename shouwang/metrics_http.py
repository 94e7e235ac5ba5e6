"""The Prometheus endpoint every service serves from a background thread, and counters read
back (for a service's log lines and its state in Redis, so it keeps no second tally)."""

from collections.abc import Iterator, Mapping
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, Counter, start_http_server

log = structlog.get_logger("shouwang")


class MetricsPortBusy(RuntimeError):
    """The metrics port is taken; the message says which setting to change."""


def serve_metrics(registry: CollectorRegistry, port: int, setting: str) -> WSGIServer | None:
    """Serve `registry` on `port` (0: not at all); returns the server (`shutdown()` stops it).
    `setting` is the config key of the port (`rules.metrics_port`), named in the error."""
    if not port:
        return None
    try:
        server, _ = start_http_server(port, addr="0.0.0.0", registry=registry)
    except OSError as exc:
        variable = "SHOUWANG_" + setting.upper().replace(".", "__")
        raise MetricsPortBusy(
            f"metrics port {port} is not available ({exc}); set {setting} ({variable}) to a "
            "free port or 0"
        ) from None
    log.info("metrics endpoint up", port=port, setting=setting)
    return server


def counter_values(counter: Counter, label: str | None = None) -> dict[str, int]:
    """A counter's value by the value of `label` (summed over its other labels), or its total
    under the key "" without `label`; only values above zero."""
    values: dict[str, int] = {}
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.value:
                key = sample.labels[label] if label else ""
                values[key] = values.get(key, 0) + int(sample.value)
    return values


class CounterTotals(Mapping[str, int]):
    """Counters by short name, read live: `totals["received"]` is that counter's total now
    (0 until it counts); iterating (and `dict(totals)`) gives those above zero."""

    def __init__(self, counters: Mapping[str, Counter]) -> None:
        self._counters = dict(counters)

    def __getitem__(self, name: str) -> int:
        return counter_values(self._counters[name]).get("", 0)

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._counters if self[name])

    def __len__(self) -> int:
        return sum(1 for _ in self)
