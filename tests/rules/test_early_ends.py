"""An episode's end decided before the start or update that raises its alert is remembered and
recorded on that alert as if it had come in order (rules/ends.py): in an earlier batch, earlier
in the same batch, or by another worker at the same time. Ends no alert takes expire."""

import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import AlertEvent, OutboxEntry
from records.feed import Change
from rules.consumer import RulesConsumer
from shouwang.contracts import EventType, Phase
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import NOON, event
from tests.rules.conftest import add, alerts, changes, drain

pytestmark = pytest.mark.integration

ENDED_AT = NOON + timedelta(seconds=40)


Episode = Callable[[int, Phase], dict[str, str]]
"""An episode's entry `seconds` after noon, in a phase."""


def episode(type_: EventType = EventType.FALL, camera: str = "cam-home-wang") -> Episode:
    """A new episode (by default a fall at the elder's home: rule `elder_fall`)."""
    episode_id = str(uuid.uuid4())

    def entry(seconds: int, phase: Phase) -> dict[str, str]:
        return event(
            type_,
            camera=camera,
            phase=phase,
            at=NOON + timedelta(seconds=seconds),
            started_at=NOON,
            episode_id=episode_id,
        )

    return entry


def fall() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The start, an update and the end of a fall at the elder's home."""
    entry = episode()
    return entry(0, Phase.START), entry(20, Phase.UPDATE), entry(40, Phase.END)


def phases(sessions: sessionmaker[Session]) -> list[str]:
    """The phases on the alerts' timelines, in the order recorded."""
    with sessions() as session:
        return list(session.scalars(select(AlertEvent.phase).order_by(AlertEvent.id)))


def remembered(client: redis.Redis, names: RedisNames) -> list[str]:
    return sorted(client.keys(f"{names.prefix}:ends:*"))


def test_an_end_decided_in_an_earlier_batch_ends_the_alert_its_start_raises(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    entry = episode()
    start, update, end = entry(0, Phase.START), entry(20, Phase.UPDATE), entry(40, Phase.END)
    (end_id,) = add(redis_client, names, end)
    drain(consumer)
    assert alerts(village) == []
    add(redis_client, names, start, update)
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.condition_ended_at == ENDED_AT
    assert phases(village) == ["start", "update", "end"]
    announced = changes(redis_client, names)
    assert [c.change for c in announced] == [Change.CREATED, Change.UPDATED, Change.ENDED]
    assert announced[-1].entry_id == end_id
    assert consumer.counts["conditions_ended"] == 1

    # A later update finds the end recorded (it is recorded once), and clears the condition.
    add(redis_client, names, entry(50, Phase.UPDATE))
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.condition_ended_at is None
    assert phases(village) == ["start", "update", "end", "update"]
    assert consumer.counts["conditions_ended"] == 1


def test_an_end_earlier_in_the_same_batch_ends_the_alert_its_start_raises(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    start, _, end = fall()
    add(redis_client, names, end, start)
    assert consumer.poll(block_ms=0) == 2, "one batch"
    (alert,) = alerts(village)
    assert alert.condition_ended_at == ENDED_AT
    assert phases(village) == ["start", "end"]
    assert [c.change for c in changes(redis_client, names)] == [Change.CREATED, Change.ENDED]
    assert consumer.counts["conditions_ended"] == 1


def test_ends_no_alert_can_take_are_not_remembered_and_the_others_expire(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    consumer = consumer_for(end_wait_s=2.0)  # long enough to read the TTL on a loaded CI box
    add(
        redis_client,
        names,
        episode(camera="cam-square")(40, Phase.END),  # the camera watches nobody
        episode(EventType.ZONE_INTRUSION)(40, Phase.END),  # no rule for the type
    )
    drain(consumer)
    assert remembered(redis_client, names) == []

    start, _, end = fall()
    add(redis_client, names, end)
    drain(consumer)
    (key,) = remembered(redis_client, names)
    assert 0 < redis_client.pttl(key) <= 2000
    deadline = time.monotonic() + 10
    while remembered(redis_client, names) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert remembered(redis_client, names) == [], "expired"
    add(redis_client, names, start)
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.condition_ended_at is None
    assert phases(village) == ["start"]
    assert [c.change for c in changes(redis_client, names)] == [Change.CREATED]


def ended_in_outbox(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        rows = session.scalars(select(OutboxEntry.fields))
        return sum(1 for fields in rows if fields.get("change") == Change.ENDED.value)


def require_postgresql(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: the two transactions cannot overlap")


def test_an_end_decided_while_its_start_is_uncommitted_is_recorded_after_the_commit(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    database_url: str,
) -> None:
    require_postgresql(database_url)
    starts, ends = consumer_for(consumer="a").engine, consumer_for(consumer="b").engine
    start, _, end = fall()
    with village.begin() as first:
        raised = starts.decide(first, [("1-0", start)])
        assert len(raised.created) == 1
        with village.begin() as second:  # the other worker, meanwhile: no alert to see
            assert ends.decide(second, [("2-0", end)]).ended == []
        assert phases(village) == []
    late = starts.early_ends(raised.episodes)  # the start's worker, once committed
    assert late.ended == raised.created
    (alert,) = alerts(village)
    assert alert.condition_ended_at == ENDED_AT
    assert phases(village) == ["start", "end"]
    assert ended_in_outbox(village) == 1


def test_an_end_both_workers_find_is_recorded_once(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    database_url: str,
) -> None:
    require_postgresql(database_url)
    starts, ends = consumer_for(consumer="a").engine, consumer_for(consumer="b").engine
    start, _, end = fall()
    with village.begin() as first:
        raised = starts.decide(first, [("1-0", start)])
    late: list[list[int]] = []
    with village.begin() as second:
        # The end was remembered, then found the committed alert and is recorded on it; its
        # transaction holds the alert while the start's worker finds the remembered end.
        assert ends.decide(second, [("2-0", end)]).ended == raised.created
        holder = second.scalar(text("SELECT pg_backend_pid()"))
        looking = threading.Thread(
            target=lambda: late.append(starts.early_ends(raised.episodes).ended)
        )
        looking.start()
        waits = text(
            "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
        )
        deadline = time.monotonic() + 10
        with village() as watcher:
            while not watcher.scalar(waits, {"pid": holder}) and time.monotonic() < deadline:
                watcher.rollback()
                time.sleep(0.02)
            assert watcher.scalar(waits, {"pid": holder}), "the start's worker did not wait"
    looking.join(10)
    assert late == [[]], "found recorded once the end's transaction committed"
    (alert,) = alerts(village)
    assert alert.condition_ended_at == ENDED_AT
    assert phases(village) == ["start", "end"]
    assert ended_in_outbox(village) == 1
