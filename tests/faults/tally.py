"""Counting what a fault did: events lost on the way, and alerts duplicated.

An event is *lost* if the edge queued it and it never reached the events stream, or reached
it and was never decided onto its alert (no `alert_events` row for it). An alert is
*duplicated* if an episode has more than one alert, or if the live feed announces the creation
of one alert under two different `seq` numbers (a repeat with the same `seq` is the outbox's
documented at-least-once publishing, which readers drop; it is counted apart as
`feed_repeats`).
"""

import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import redis
from sqlalchemy import func, select

from records.alerts import Alert, AlertEvent
from shouwang.contracts import BehaviourEvent
from shouwang.redis_keys import ALERTS_STREAM, DEADLETTER_STREAM, RULES_GROUP
from tests.faults.stack import Stack


@dataclass(frozen=True)
class Tally:
    """What the pipeline holds for the events an edge published."""

    published: int
    stored: int
    """Published events on the events stream (distinct keys)."""
    stream_duplicates: int
    """Stream entries beyond the first for a key (ingest stored an event twice)."""
    decided: int
    """Published events recorded on an alert (`alert_events`, distinct keys)."""
    episodes: int
    alerts: int
    duplicate_alerts: int
    """Alerts beyond the first of an episode, plus creations announced twice."""
    feed_repeats: int
    """Alert changes published again under the same `seq` (dropped by readers)."""
    pending: int
    """Entries read by a rules worker and not acknowledged."""
    unread: bool
    """Whether the rules' consumer group has not yet read the newest entry."""
    deadletters: int
    not_stored: frozenset[str] = frozenset()
    """Keys of the published events that never reached the events stream."""

    @property
    def lost(self) -> int:
        """Events queued at the edge that never made it into an alert's record."""
        return self.published - self.decided

    @property
    def lost_before_stream(self) -> int:
        return self.published - self.stored

    def consumed(self, may_lose: frozenset[str] = frozenset()) -> bool:
        """Everything published is stored (but what `may_lose` allows to be missing), and every
        entry read and acknowledged."""
        stored = not (self.not_stored - may_lose)
        return stored and self.pending == 0 and not self.unread

    def summary(self) -> str:
        fields = asdict(self)
        fields["lost"] = self.lost
        del fields["unread"], fields["not_stored"]
        return " ".join(f"{name}={value}" for name, value in fields.items())


def count(stack: Stack, events: list[BehaviourEvent]) -> Tally:
    """Count the pipeline's state for `events` (the edge's list)."""
    phases = {event.idempotency_key: event.phase for event in events}
    client = stack.redis()
    try:
        streams = stack.event_streams(client)
        stream = Counter(
            fields.get("key", "")
            for name in streams
            for _, fields in client.xrange(name)
            if fields.get("kind") == "event"
        )
        groups = [_group(client, name) for name in streams] or [(0, True)]
        pending, unread = sum(p for p, _ in groups), any(u for _, u in groups)
        deadletters = int(client.xlen(DEADLETTER_STREAM))
        created = Counter(
            (fields["alert_id"], fields.get("seq", ""))
            for _, fields in client.xrange(ALERTS_STREAM)
            if fields.get("change") == "created"
        )
    finally:
        client.close()
    with stack.sessions()() as session:
        recorded = {
            key
            for (key,) in session.execute(select(AlertEvent.event_key).distinct())
            if key in phases
        }
        per_episode = list(
            session.execute(select(Alert.group_key, func.count()).group_by(Alert.group_key))
        )
    announced = Counter(alert_id for alert_id, _ in created)
    return Tally(
        published=len(phases),
        stored=len(phases.keys() & stream.keys()),
        stream_duplicates=sum(n - 1 for n in stream.values() if n > 1),
        decided=len(recorded),
        episodes=len({event.episode_id for event in events}),
        alerts=sum(n for _, n in per_episode),
        duplicate_alerts=sum(n - 1 for _, n in per_episode if n > 1)
        + sum(n - 1 for n in announced.values() if n > 1),
        feed_repeats=sum(n - 1 for n in created.values() if n > 1),
        pending=pending,
        unread=unread,
        deadletters=deadletters,
        not_stored=frozenset(phases.keys() - stream.keys()),
    )


def _group(client: redis.Redis, stream: str) -> tuple[int, bool]:
    """Pending entries of the rules group on `stream`, and whether it has entries left to
    read."""
    try:
        groups: list[dict[str, Any]] = client.xinfo_groups(stream)
        last = client.xinfo_stream(stream)["last-generated-id"]
    except redis.ResponseError:  # no stream yet
        return 0, True
    for group in groups:
        if group["name"] == RULES_GROUP:
            return int(group["pending"]), group["last-delivered-id"] != last
    return 0, True


def settled(
    stack: Stack,
    events: list[BehaviourEvent],
    *,
    timeout: float = 180.0,
    quiet_s: float = 3.0,
    may_lose: frozenset[str] = frozenset(),
) -> Tally:
    """Wait until every event is stored (but those `may_lose` allows to be missing) and every
    entry decided and acknowledged, and the counts stay the same for `quiet_s` (late
    redeliveries would show by then), checking that the services stay up; return the final
    tally. On timeout, fail with the tally."""
    deadline = time.monotonic() + timeout
    tally = count(stack, events)
    while not tally.consumed(may_lose):
        stack.check_services()
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not everything arrived in {timeout:g} s: {tally.summary()}; "
                f"not decided: {undecided(stack, events)[:10]}"
            )
        time.sleep(0.5)
        tally = count(stack, events)
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < quiet_s:
        time.sleep(0.5)
        again = count(stack, events)
        if again != tally:
            tally, stable_since = again, time.monotonic()
    return tally


def assert_nothing_lost_or_doubled(
    tally: Tally,
    stack: Stack,
    events: list[BehaviourEvent],
    *,
    may_lose: frozenset[str] = frozenset(),
) -> None:
    """The target of every fault test: 0 events lost, 0 alerts duplicated, no entry given up.

    `may_lose`: keys of events a documented bounded exception allows to go missing before the
    stream (a crashed broker's window); any other loss fails."""
    outside = tally.not_stored - may_lose
    assert not outside, f"lost before the stream: {sorted(outside)[:10]}; {tally.summary()}"
    assert tally.stream_duplicates == 0, tally.summary()
    assert tally.duplicate_alerts == 0, tally.summary()
    if not tally.not_stored:
        assert tally.alerts == tally.episodes, tally.summary()
    assert tally.deadletters == 0, tally.summary()
    lost_on_the_stream = tally.lost - len(tally.not_stored)
    assert lost_on_the_stream == 0, f"{tally.summary()}; {undecided(stack, events)[:10]}"


def undecided(stack: Stack, events: list[BehaviourEvent]) -> list[str]:
    """`<phase> <key> <stream entry id, or 'not stored'>` of the events no alert records."""
    client = stack.redis()
    try:
        entries = {
            fields.get("key"): entry_id
            for name in stack.event_streams(client)
            for entry_id, fields in client.xrange(name)
            if fields.get("kind") == "event"
        }
    finally:
        client.close()
    with stack.sessions()() as session:
        recorded = set(session.scalars(select(AlertEvent.event_key).distinct()))
    return [
        f"{event.phase.value} {key} {entries.get(key, 'not stored')}"
        for event in events
        if (key := event.idempotency_key) not in recorded
    ]


def stream_order(stack: Stack) -> list[str]:
    """Event keys in the order they were first appended to the events stream."""
    client = stack.redis()
    try:
        seen: dict[str, None] = {}
        (stream,) = stack.event_streams(client)
        for _, fields in client.xrange(stream):
            if fields.get("kind") == "event":
                seen.setdefault(fields["key"], None)
        return list(seen)
    finally:
        client.close()
