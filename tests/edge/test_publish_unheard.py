"""Events the broker accepts but hands to nobody (MQTT 5 PUBACK 0x10 "No matching
subscribers") stay queued at the edge and are sent again once someone subscribes.

The fault that shows why (tests/faults/test_broker_restart.py): Mosquitto 2.0 does not keep
shared subscriptions across its own restart, so until the ingest workers have subscribed again
the broker acknowledges events to the edge and delivers them to nobody.
"""

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.publish import EdgePublisher, PublisherSettings
from shouwang.settings import MqttSettings
from tests.helpers.edge_events import make_event
from tests.helpers.mosquitto import Mosquitto, running_mosquitto
from tests.helpers.subscriber import Received, Subscriber

pytestmark = pytest.mark.integration

EDGE = "edge-01"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with running_mosquitto(tmp_path / "mosquitto", tuned=True) as broker:
        yield broker


def event_ids(messages: list[Received]) -> list[str]:
    return [json.loads(m.payload)["event_id"] for m in messages if m.topic.endswith("/event")]


def wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_events_nobody_subscribed_to_wait_at_the_edge_for_a_subscriber(
    tmp_path: Path, broker: Mosquitto
) -> None:
    site = f"t{uuid.uuid4().hex[:10]}"
    publisher = EdgePublisher(
        site=site,
        edge=EDGE,
        mqtt_settings=MqttSettings(port=broker.port, keepalive_s=5),
        settings=PublisherSettings(
            queue_path=tmp_path / "outbox.sqlite3",
            replay_jitter_s=0,
            reconnect_min_s=1,
            reconnect_max_s=1,
        ),
    )
    publisher.start()
    subscriber: Subscriber | None = None
    try:
        sent = [f"unheard-{i:06d}" for i in range(20)]
        for event_id in sent:
            publisher.publish_event(make_event(site, EDGE, event_id))
        assert wait(lambda: publisher.stats().unheard >= 20, 20), "no PUBACK said 'nobody'"
        assert publisher.queue_depth == 20, "the broker acknowledged them, but nobody got them"
        assert publisher.stats().queue.sent == 0

        subscriber = Subscriber(broker.port, f"shouwang/v1/{site}/+/event").start()
        assert subscriber.wait_for(lambda m: len(event_ids(m)) >= 20, timeout=20)
        assert publisher.wait_until_delivered(timeout=10)
        assert event_ids(subscriber.snapshot()) == sent  # once each, in order
        assert publisher.stats().queue.sent == 20
    finally:
        publisher.stop(timeout=2)
        if subscriber is not None:
            subscriber.stop()
