"""The notifier's Prometheus endpoint: its counters and its group's backlog, scraped over
HTTP."""

import urllib.request
from collections.abc import Callable

import redis
from prometheus_client.parser import text_string_to_metric_families

from notify.service import serve_metrics
from notify.worker import Notifier
from tests.helpers.mosquitto import free_port
from tests.notify.builders import job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge


def scrape(port: int) -> dict[tuple[str, str], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, sample.labels.get("result", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_endpoint_shows_planned_jobs_and_what_waits(
    notifier_for: Callable[..., Notifier],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    notifier = notifier_for()
    port = free_port()
    server = serve_metrics(notifier, port)
    assert server is not None
    try:
        hooks = [edge.url(f"/hook/{n}", "json") for n in range(3)]
        publish(redis_client, names.stream, *(job(h, recipient_id=n) for n, h in enumerate(hooks)))
        waiting = scrape(port)
        settle(notifier)
        after = scrape(port)
    finally:
        server.shutdown()
    assert waiting[("shouwang_notify_group_lag", "")] == 3  # nobody has read them yet
    assert after[("shouwang_notify_jobs_total", "planned")] == 3
    assert after[("shouwang_notify_group_lag", "")] == 0
    assert after[("shouwang_notify_group_pending", "")] == 0
