"""The rules worker's Prometheus endpoint: its counts and its group's backlog, scraped over
HTTP."""

import socket
import urllib.request
from collections.abc import Callable

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from rules.consumer import RulesConsumer
from rules.metrics import serve_metrics
from shouwang.contracts import EventType
from shouwang.metrics_http import MetricsPortBusy
from tests.helpers.mosquitto import free_port
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import event
from tests.rules.conftest import add, drain


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_endpoint_shows_what_the_worker_decided_and_what_waits(
    consumer_for: Callable[..., RulesConsumer], redis_client: redis.Redis, names: RedisNames
) -> None:
    consumer = consumer_for()
    port = free_port()
    server = serve_metrics(consumer, port)
    assert server is not None
    try:
        before = scrape(port)
        assert before["shouwang_rules_processed_total"] == 0
        assert before["shouwang_rules_group_lag"] == 0
        add(redis_client, names, event(EventType.FALL), event(EventType.LOITERING))
        assert scrape(port)["shouwang_rules_group_lag"] == 2  # nobody has read them yet
        drain(consumer)
        after = scrape(port)
    finally:
        server.shutdown()
    assert after["shouwang_rules_processed_total"] == 2
    assert after["shouwang_rules_alerts_created_total"] == 1  # the fall at the elder's home
    assert after["shouwang_rules_failures_total"] == 0
    assert (after["shouwang_rules_group_lag"], after["shouwang_rules_group_pending"]) == (0, 0)


def test_a_taken_port_is_a_clear_error(consumer_for: Callable[..., RulesConsumer]) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MetricsPortBusy, match=f"metrics port {port} is not available") as e:
            serve_metrics(consumer_for(), port)
    assert "set rules.metrics_port (SHOUWANG_RULES__METRICS_PORT)" in str(e.value)


def test_port_zero_serves_nothing(consumer_for: Callable[..., RulesConsumer]) -> None:
    assert serve_metrics(consumer_for(), 0) is None
