"""EdgePublisher without a broker: API checks, queuing while offline, bounded queue, logs."""

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from edge.publish import EdgePublisher, OutboxQueue, PublisherSettings
from shouwang.contracts import Phase
from shouwang.settings import MqttSettings
from tests.helpers.edge_events import make_event, make_snapshot
from tests.helpers.mosquitto import free_port

EDGE = "edge-01"


@pytest.fixture
def site() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def offline(tmp_path: Path, site: str) -> Iterator[EdgePublisher]:
    """A publisher whose broker is down for the whole test."""
    publisher = EdgePublisher(
        site=site,
        edge=EDGE,
        mqtt_settings=MqttSettings(port=free_port()),
        settings=PublisherSettings(
            queue_path=tmp_path / "outbox.sqlite3",
            max_queued_messages=10,
            replay_jitter_s=0,
            reconnect_min_s=1,
            reconnect_max_s=1,
        ),
    )
    publisher.start()
    yield publisher
    publisher.stop(timeout=1)


def test_start_with_broker_down_does_not_raise_and_events_queue(
    offline: EdgePublisher, site: str
) -> None:
    started = time.monotonic()
    for i in range(5):
        event = make_event(site, EDGE, f"evt-{i:06d}")
        offline.publish_event(event, make_snapshot(event))
    assert time.monotonic() - started < 5
    assert not offline.connected
    assert offline.queue_depth == 5  # events only
    stats = offline.stats()
    assert (stats.queue.depth, stats.queue.queued, stats.queue.sent) == (10, 10, 0)


def test_full_queue_evicts_by_policy_and_counts(offline: EdgePublisher, site: str) -> None:
    first = make_event(site, EDGE, "first-000001")
    offline.publish_event(first, make_snapshot(first))
    for i in range(4):
        offline.publish_event(make_event(site, EDGE, f"upd-{i:06d}", phase=Phase.UPDATE))
    for i in range(7):
        offline.publish_event(make_event(site, EDGE, f"start-{i:06d}"))
    stats = offline.stats()
    assert stats.queue.depth == 10
    assert stats.queue.evicted == {"clip": 0, "snapshot": 1, "event_update": 2, "event": 0}
    assert offline.queue_depth == 10


def test_wrong_edge_or_snapshot_is_refused(offline: EdgePublisher, site: str) -> None:
    with pytest.raises(ValueError, match="this publisher is"):
        offline.publish_event(make_event(site, "edge-02", "other-000001"))
    event = make_event(site, EDGE, "mine-000001")
    other = make_event(site, EDGE, "mine-000002")
    with pytest.raises(ValueError, match="does not belong to event"):
        offline.publish_event(event, make_snapshot(other))
    assert offline.queue_depth == 0


def test_publish_requires_start(tmp_path: Path, site: str) -> None:
    publisher = EdgePublisher(
        site=site,
        edge=EDGE,
        mqtt_settings=MqttSettings(port=free_port()),
        settings=PublisherSettings(queue_path=tmp_path / "q.sqlite3"),
    )
    with pytest.raises(RuntimeError, match="call start"):
        publisher.publish_event(make_event(site, EDGE, "early-000001"))
    publisher.stop()  # stopping a publisher that never started is harmless


def test_stop_closes_the_queue_file(tmp_path: Path, offline: EdgePublisher, site: str) -> None:
    offline.publish_event(make_event(site, EDGE, "kept-000001"))
    started = time.monotonic()
    offline.stop(timeout=5)
    assert time.monotonic() - started < 3  # offline: nothing to flush, no waiting
    queue = OutboxQueue(tmp_path / "outbox.sqlite3", max_messages=10, max_bytes=10**6)
    assert [m.event_id for m in queue.peek_after(0, 10)] == ["kept-000001"]
    queue.close()
    with pytest.raises(RuntimeError, match="stopped"):
        offline.publish_event(make_event(site, EDGE, "late-000001"))


def test_every_log_line_about_an_event_has_its_id(offline: EdgePublisher, site: str) -> None:
    with capture_logs() as logs:
        for i in range(12):  # two more than fit: evictions are logged too
            offline.publish_event(make_event(site, EDGE, f"log-{i:06d}"))
    about_events = [e for e in logs if e["event"].startswith(("event.", "queue."))]
    assert {e["event"] for e in about_events} == {"event.queued", "queue.evicted"}
    assert all(e.get("event_id") for e in about_events)
