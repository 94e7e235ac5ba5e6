"""The edge box is cut off from the broker for 10 simulated minutes while falls keep happening:
when the link returns every event arrives, in the order it happened, none twice, and the alerts
carry the times the events happened, not the times they arrived.

The link is a TCP proxy that, when cut, lets bytes vanish without closing anything (a rural
uplink going down): the edge only notices through its MQTT keepalive, and events it sent into
the void have no PUBACK and must be sent again. Events are made by the edge's own
`EventFactory` on a simulated clock, ten minutes of them in a second or two.
"""

from datetime import timedelta

import pytest

from records.alerts import Alert
from shouwang.redis_keys import edge_key
from tests.faults.stack import EDGE, Stack, wait_until
from tests.faults.tally import assert_nothing_lost_or_doubled, settled, stream_order
from tests.faults.timeline import Timeline
from tests.helpers.tcp_proxy import running_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE = timedelta(minutes=10)


def edge_status(stack: Stack) -> str | None:
    client = stack.redis()
    try:
        return client.hget(edge_key(stack.site, EDGE), "status")
    finally:
        client.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_edge_cut_off_for_10_simulated_minutes(stack: Stack) -> None:
    stack.start_ingest("ingest-1")
    stack.start_rules("rules-1")
    timeline = Timeline(stack.site, EDGE, cameras=4, spacing_s=0.5)
    with running_proxy(stack.mqtt_port) as link:
        publisher = stack.publisher(port=link.port, replay_rate=500)
        wait_until(lambda: edge_status(stack) == "online", 60, "the edge online")

        before = timeline.episodes(20)
        for event in before:
            publisher.publish_event(event)
        settled(stack, before, quiet_s=0)

        link.cut()
        cut_at = timeline.now
        during = []
        while timeline.now - cut_at < OUTAGE:
            during += timeline.episode()
            publisher.publish_event(during[-3])
            publisher.publish_event(during[-2])
            publisher.publish_event(during[-1])
        simulated = during[-1].observed_at - during[0].observed_at
        assert simulated >= OUTAGE - timedelta(seconds=2)
        # The edge notices the silence through its keepalive, the broker publishes its will.
        wait_until(lambda: not publisher.connected, 60, "the edge to notice the cut")
        wait_until(lambda: edge_status(stack) == "offline", 60, "the broker to announce it gone")
        wait_until(lambda: link.refused >= 1, 60, "the edge to try to reconnect")
        assert publisher.queue_depth >= len(during), "the edge did not keep the events"
        on_stream = set(stream_order(stack))
        assert not on_stream & {e.idempotency_key for e in during}, "the cut let events through"

        link.restore()
        after = timeline.episodes(20)
        for event in after:
            publisher.publish_event(event)
        tally = settled(stack, timeline.events)
        assert edge_status(stack) == "online"
        assert link.connections >= 2

    print(
        f"edge cut off for {simulated} simulated, {len(during)} events meanwhile: {tally.summary()}"
    )
    assert_nothing_lost_or_doubled(tally, stack, timeline.events)
    assert stream_order(stack) == [e.idempotency_key for e in timeline.events], "out of order"
    with stack.sessions()() as session:
        rows = session.query(Alert).order_by(Alert.id).all()
        seen = [(a.first_seen_at, a.last_seen_at, a.condition_ended_at) for a in rows]
    starts = [e for e in timeline.events if e.phase == "start"]
    ends = [e for e in timeline.events if e.phase == "end"]
    updates = [e for e in timeline.events if e.phase == "update"]
    assert seen == [
        (start.observed_at, update.observed_at, end.observed_at)
        for start, update, end in zip(starts, updates, ends, strict=True)
    ], "alerts do not carry the simulated times, or were raised out of order"
