"""The Prometheus endpoint the services share: served, scraped, stopped; a taken port is a
clear error naming the setting."""

import socket
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from shouwang.metrics_http import CounterTotals, MetricsPortBusy, counter_values, serve_metrics
from tests.helpers.mosquitto import free_port


def test_a_registry_is_served_until_shut_down() -> None:
    registry = CollectorRegistry()
    Counter("shouwang_test_things", "Things.", registry=registry).inc(3)
    port = free_port()
    server = serve_metrics(registry, port, "ingest.metrics_port")
    assert server is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert "shouwang_test_things_total 3.0" in response.read().decode()
    finally:
        server.shutdown()
        server.server_close()


def test_a_taken_port_names_the_setting_and_its_variable() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsPortBusy) as error:
            serve_metrics(CollectorRegistry(), port, "notify.metrics_port")
    assert str(error.value).startswith(f"metrics port {port} is not available")
    assert "set notify.metrics_port (SHOUWANG_NOTIFY__METRICS_PORT) to a free port or 0" in str(
        error.value
    )


def test_port_zero_serves_nothing() -> None:
    assert serve_metrics(CollectorRegistry(), 0, "ingest.metrics_port") is None


def test_counters_read_back_by_label_or_in_total() -> None:
    registry = CollectorRegistry()
    messages = Counter("shouwang_test_messages", "M.", ["kind", "outcome"], registry=registry)
    messages.labels("event", "stored").inc(3)
    messages.labels("sensor", "stored").inc(2)
    messages.labels("event", "rejected").inc()
    messages.labels("sensor", "duplicate")  # seen, still zero
    assert counter_values(messages, "outcome") == {"stored": 5, "rejected": 1}
    assert counter_values(messages) == {"": 6}
    assert counter_values(Counter("shouwang_test_none", "N.", registry=registry)) == {}


def test_counter_totals_are_read_live_and_list_what_counted() -> None:
    registry = CollectorRegistry()
    received = Counter("shouwang_test_received", "R.", ["kind"], registry=registry)
    errors = Counter("shouwang_test_errors", "E.", registry=registry)
    totals = CounterTotals({"received": received, "errors": errors})
    assert totals["received"] == 0 and dict(totals) == {} and len(totals) == 0
    received.labels("event").inc(2)
    received.labels("sensor").inc()
    assert totals["received"] == 3 and dict(totals) == {"received": 3}
    errors.inc()
    assert dict(totals) == {"received": 3, "errors": 1}
    with pytest.raises(KeyError):
        totals["unknown"]
