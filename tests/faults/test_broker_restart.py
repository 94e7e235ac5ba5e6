"""The broker restarts, cleanly (SIGTERM) and in a crash (SIGKILL), while 5,000 events are on
their way from the edge to the alerts, and while ingest is down.

A clean restart loses nothing. A crash loses what the broker had acknowledged to the edge
since its last autosave and not yet handed to ingest: Mosquitto 2.0 persists by periodic
snapshot (`autosave_interval 5`), and the edge deletes an event once the broker has
acknowledged it. That window is the one bounded exception the crash test allows: it measures
the window at the kill and checks that every lost event is inside it (see docs/faults.md).

The restart while ingest is down found a loss, now fixed in the edge publisher: Mosquitto 2.0
forgets shared subscriptions when it restarts, so until the ingest workers subscribe again it
acknowledges events and delivers them to nobody (PUBACK reason 0x10); the edge used to delete
them.
"""

import sqlite3
import time

import pytest

from edge.publish import EdgePublisher
from shouwang.contracts import BehaviourEvent
from tests.faults.stack import EDGE, Stack, wait_until
from tests.faults.tally import assert_nothing_lost_or_doubled, settled, stream_order
from tests.faults.timeline import Timeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EPISODES = 1250
"""Four events each (start, two updates, end): 5,000 events, 1,250 alerts."""


def restart(stack: Stack, signal: str) -> None:
    if signal == "SIGKILL":
        stack.broker.kill()
    else:
        stack.broker.stop()
    stack.broker.start()


def wait_for_autosave(stack: Stack) -> None:
    """Until the broker has written its state (sessions, queued messages) once more."""
    saved = stack.broker.directory / "mosquitto.db"
    before = saved.stat().st_mtime_ns if saved.exists() else 0
    wait_until(
        lambda: saved.exists() and saved.stat().st_mtime_ns > before,
        60,
        "the broker's next autosave",
    )


def held_by_edge(publisher: EdgePublisher) -> set[str]:
    """Event ids in the edge's queue file: not (yet) acknowledged by the broker."""
    uri = f"file:{publisher.settings.queue_path}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        return {event_id for (event_id,) in db.execute("SELECT event_id FROM outbox")}


def crash_window(
    stack: Stack, publisher: EdgePublisher, events: list[BehaviourEvent]
) -> frozenset[str]:
    """After the broker died: keys of the events it had acknowledged to the edge and ingest
    had not stored — what a crash may lose. Waits until no acknowledgement is still being
    applied at the edge."""
    wait_until(lambda: not publisher.connected, 30, "the edge to see the broker gone")
    acked = -1
    while acked != publisher.stats().queue.sent:  # the last PUBACKs are being applied
        acked = publisher.stats().queue.sent
        time.sleep(0.5)
    handed = events[: publisher.stats().queue.queued]
    held = held_by_edge(publisher)
    accepted = {e.idempotency_key for e in handed if e.event_id not in held}
    return frozenset(accepted - set(stream_order(stack)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("signal", ["SIGTERM", "SIGKILL"])
def test_broker_restart_with_5000_events_in_flight(stack: Stack, signal: str) -> None:
    stack.start_ingest("ingest-1")
    stack.start_ingest("ingest-2")
    stack.start_rules("rules-1")
    wait_for_autosave(stack)  # as in production: the broker has saved the ingest sessions
    events = Timeline(stack.site, EDGE, cameras=8, spacing_s=0.2).episodes(EPISODES, updates=2)
    assert len(events) == 5000
    publisher = stack.publisher()
    producing = stack.produce(publisher, events)
    window: frozenset[str] = frozenset()
    try:
        wait_until(lambda: stack.stored() >= 1500, 120, "1,500 events stored")
        if signal == "SIGKILL":
            stack.broker.kill()
            window = crash_window(stack, publisher, events)
        else:
            stack.broker.stop()
        stored_at_restart = stack.stored()
        stack.broker.start()
    finally:
        producing.join(120)
    assert stored_at_restart < 5000, "every event was stored before the restart: nothing tested"
    assert publisher.wait_until_delivered(60), "the edge did not deliver its queue"

    tally = settled(stack, events, may_lose=window)
    print(
        f"broker {signal}, {stored_at_restart} of 5000 stored at the restart, "
        f"{len(window)} in the crash window: {tally.summary()}"
    )
    assert_nothing_lost_or_doubled(tally, stack, events, may_lose=window)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("signal", ["SIGTERM", "SIGKILL"])
def test_broker_restart_while_ingest_is_down(stack: Stack, signal: str) -> None:
    """2,500 events wait at the broker for a stopped ingest; the broker restarts; the edge
    publishes 2,500 more before ingest is back."""
    ingest = stack.start_ingest("ingest-1")
    ingest.terminate()  # its persistent session now collects its messages at the broker
    timeline = Timeline(stack.site, EDGE, cameras=8, spacing_s=0.2)
    backlog = timeline.episodes(EPISODES // 2, updates=2)
    publisher = stack.publisher()
    for event in backlog:
        publisher.publish_event(event)
    assert publisher.wait_until_delivered(120), "the broker did not accept the backlog"
    if signal == "SIGKILL":  # a crash keeps what the last autosave wrote: wait for one
        wait_for_autosave(stack)
    restart(stack, signal)
    # Mosquitto 2.0 restores the session and its queued messages, but not its shared
    # subscription: until ingest subscribes again the broker hands new events to nobody.
    for event in timeline.episodes(EPISODES - EPISODES // 2, updates=2):
        publisher.publish_event(event)
    wait_until(lambda: publisher.stats().unheard > 0, 60, "a PUBACK saying nobody subscribes")
    ingest.start()
    stack.start_rules("rules-1")

    tally = settled(stack, timeline.events)
    print(f"broker {signal} while ingest was down: {tally.summary()}")
    assert tally.episodes == EPISODES
    assert_nothing_lost_or_doubled(tally, stack, timeline.events)
