"""The Prometheus endpoint the services share: served, scraped, stopped; a taken port is a
clear error naming the setting."""

import socket
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from shouwang.metrics_http import MetricsPortBusy, serve_metrics
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
