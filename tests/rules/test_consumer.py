"""The consumer group: acknowledged after commit, duplicates, grouping and cooldown, snapshots,
episode ends, reclaiming a dead worker's entries, dead letters, database outages, deadlocks."""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import AlertEvent, AlertTransition
from records.db import make_engine, make_sessionmaker
from records.feed import Change
from records.lifecycle import transition
from records.types import AlertStatus
from rules.consumer import RulesConsumer
from shouwang.contracts import EventType, Phase, SensorType
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import NOON, clip, event, sensor, snapshot
from tests.rules.conftest import Clock, add, alerts, changes, drain

pytestmark = pytest.mark.integration


def fall(**kwargs: object) -> dict[str, str]:
    return event(EventType.FALL, camera="cam-home-wang", **kwargs)  # type: ignore[arg-type]


def pending(client: redis.Redis, names: RedisNames) -> int:
    return int(client.xpending(names.events, "rules")["pending"])


def test_the_same_event_twice_makes_one_alert(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    entry = fall()
    first, _second = add(redis_client, names, entry, entry)
    consumer.engine.process(first, entry)  # decided and committed, then the worker died: no ack
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.event_count == 1
    with village() as session:
        assert session.scalar(select(func.count()).select_from(AlertEvent)) == 1
    assert pending(redis_client, names) == 0
    assert redis_client.xlen(names.streams.notifications) == 4


def test_fifty_falls_in_a_minute_make_one_alert_counting_fifty(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    add(redis_client, names, *(fall(at=NOON + timedelta(seconds=1.2 * i)) for i in range(50)))
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.event_count == 50
    assert alert.first_seen_at == NOON
    assert alert.last_seen_at == NOON + timedelta(seconds=1.2 * 49)
    assert redis_client.xlen(names.streams.notifications) == 4, "notified once"
    assert [c.change for c in changes(redis_client, names)].count(Change.CREATED) == 1


def test_cooldown_groups_repeats_and_a_closed_alert_keeps_its_episode(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    add(redis_client, names, fall(at=NOON), fall(at=NOON + timedelta(minutes=9)))
    drain(consumer)
    add(redis_client, names, fall(at=NOON + timedelta(minutes=20)))  # 11 min after the last
    drain(consumer)
    first, second = alerts(village)
    assert (first.event_count, second.event_count) == (2, 1)
    with village.begin() as session:
        transition(session, second.id, AlertStatus.ACKNOWLEDGED, actor="a", expected_version=1)
    with village.begin() as session:
        transition(
            session, second.id, AlertStatus.RESOLVED, actor="a", expected_version=2, note="ok"
        )
    later = fall(at=NOON + timedelta(minutes=21))
    add(redis_client, names, later)
    drain(consumer)
    assert [a.event_count for a in alerts(village)] == [2, 1, 1], "resolved: a new alert"
    # More of an episode whose alert people closed joins it, closed, and tells nobody.
    third = alerts(village)[2]
    with village.begin() as session:
        transition(
            session, third.id, AlertStatus.FALSE_ALARM, actor="a", expected_version=1, note="猫"
        )
    episode = later["key"].removeprefix("event:")
    add(
        redis_client,
        names,
        fall(at=NOON + timedelta(minutes=22), phase=Phase.UPDATE, episode_id=episode),
    )
    told = redis_client.xlen(names.streams.notifications)
    drain(consumer)
    assert [a.event_count for a in alerts(village)] == [2, 1, 2]
    assert alerts(village)[2].status is AlertStatus.FALSE_ALARM
    assert redis_client.xlen(names.streams.notifications) == told


def test_a_closed_alert_whose_episode_goes_on_collects_it_and_reopens_when_worse(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    """She is still on the floor after the officer closed the alert: the updates join it
    (no new alert, nobody told again); when the long lie makes it critical it reopens and
    people are told; a new episode is a new alert."""
    down = event(EventType.PERSON_DOWN, attributes={"down_s": 20.0})
    episode = down["key"].removeprefix("event:")
    add(redis_client, names, down)
    drain(consumer)
    (alert,) = alerts(village)
    assert (alert.rule_id, alert.severity.value) == ("elder_person_down", "high")
    with village.begin() as session:
        transition(session, alert.id, AlertStatus.ACKNOWLEDGED, actor="a", expected_version=1)
    with village.begin() as session:
        transition(
            session, alert.id, AlertStatus.RESOLVED, actor="a", expected_version=2, note="已看过"
        )
    told = redis_client.xlen(names.streams.notifications)

    def update(seconds: int, **attributes: object) -> dict[str, str]:
        return event(
            EventType.PERSON_DOWN,
            phase=Phase.UPDATE,
            at=NOON + timedelta(seconds=seconds),
            started_at=NOON,
            episode_id=episode,
            attributes={"down_s": 20.0 + seconds, **attributes},
        )

    add(redis_client, names, update(10), update(20))
    drain(consumer)
    (alert,) = alerts(village)
    assert (alert.status, alert.event_count) == (AlertStatus.RESOLVED, 3)
    assert redis_client.xlen(names.streams.notifications) == told, "nobody told again"
    add(redis_client, names, update(45, long_lie=True))  # still down after a minute
    drain(consumer)
    (alert,) = alerts(village)
    assert (alert.status, alert.severity.value, alert.version) == (AlertStatus.NEW, "critical", 4)
    assert redis_client.xlen(names.streams.notifications) > told, "worse: told again"
    with village() as session:
        last = session.scalars(
            select(AlertTransition).where(AlertTransition.alert_id == alert.id)
        ).all()[-1]
    assert (last.from_status, last.to_status, last.actor) == (
        AlertStatus.RESOLVED,
        AlertStatus.NEW,
        "rules",
    )
    assert last.note == "reopened by rule elder_long_lie"
    assert Change.REOPENED in [c.change for c in changes(redis_client, names)]
    with village.begin() as session:
        transition(session, alert.id, AlertStatus.ACKNOWLEDGED, actor="a", expected_version=4)
    with village.begin() as session:
        transition(
            session, alert.id, AlertStatus.RESOLVED, actor="a", expected_version=5, note="送医"
        )
    add(redis_client, names, event(EventType.PERSON_DOWN, at=NOON + timedelta(minutes=5)))
    drain(consumer)
    # The reopened alert became the long lie's (its ladder); the new episode is a new alert.
    assert [a.rule_id for a in alerts(village)] == ["elder_long_lie", "elder_person_down"]


def test_snapshots_arriving_before_or_after_their_event_become_the_best_one(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    early = fall(confidence=0.6, snapshot=True)
    add(redis_client, names, snapshot(early), early)  # the snapshot first
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.snapshot_path == snapshot(early)["path"]
    better = fall(at=NOON + timedelta(seconds=5), confidence=0.95, snapshot=True)
    worse = fall(at=NOON + timedelta(seconds=9), confidence=0.5, snapshot=True)
    add(redis_client, names, better, worse)
    drain(consumer)
    assert alerts(village)[0].snapshot_path == snapshot(early)["path"], "not arrived yet"
    add(redis_client, names, snapshot(worse), snapshot(better))  # after their events
    drain(consumer)
    (alert,) = alerts(village)
    assert (alert.snapshot_path, alert.snapshot_confidence) == (snapshot(better)["path"], 0.95)
    with village() as session:
        paths = session.scalars(select(AlertEvent.snapshot_path).order_by(AlertEvent.id)).all()
    assert paths == [snapshot(e)["path"] for e in (early, better, worse)]
    kinds = [c.change for c in changes(redis_client, names)]
    assert kinds == [Change.CREATED, Change.UPDATED, Change.UPDATED, Change.SNAPSHOT]


def test_the_alert_plays_its_episodes_clip_even_when_its_best_snapshot_has_none(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    """The edge clips an episode's start only; a loitering or fall episode's end often has the
    more confident snapshot. The start's clip, sent seconds later, is the alert's all the same,
    and the live feed says so (the pages show it when it comes)."""
    start = fall(confidence=0.8, snapshot=True)
    episode = start["key"].removeprefix("event:")
    end = fall(
        at=NOON + timedelta(seconds=8),
        phase=Phase.END,
        episode_id=episode,
        confidence=0.95,
        snapshot=True,
        attributes={"end_reason": "up"},
    )
    add(redis_client, names, start, snapshot(start), end, snapshot(end))
    drain(consumer)
    (alert,) = alerts(village)
    assert (alert.snapshot_path, alert.clip_path) == (snapshot(end)["path"], None)
    elsewhere = event(EventType.FALL, camera="cam-square", snapshot=True)  # not its clip
    add(redis_client, names, clip(elsewhere), clip(start, at=NOON + timedelta(seconds=10)))
    drain(consumer)
    (alert,) = alerts(village)
    assert (alert.snapshot_path, alert.clip_path) == (snapshot(end)["path"], clip(start)["path"])
    assert [c.change for c in changes(redis_client, names)][-1] is Change.CLIP
    assert changes(redis_client, names)[-1].alert["clip_path"] == clip(start)["path"]


def test_end_records_that_the_condition_ended_but_never_closes(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    start = fall()
    episode = start["key"].removeprefix("event:")
    end = fall(
        at=NOON + timedelta(seconds=40),
        phase=Phase.END,
        episode_id=episode,
        attributes={"end_reason": "up"},
    )
    add(redis_client, names, start, end, end)
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.status is AlertStatus.NEW
    assert alert.condition_ended_at == NOON + timedelta(seconds=40)
    assert alert.event_count == 1
    assert changes(redis_client, names)[-1].change is Change.ENDED
    add(redis_client, names, fall(at=NOON + timedelta(minutes=2)))  # she falls again
    drain(consumer)
    (alert,) = alerts(village)
    assert (alert.event_count, alert.condition_ended_at) == (2, None)


def test_entries_of_a_worker_that_died_mid_batch_are_reclaimed_by_another(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    presses = [sensor(SensorType.SOS_BUTTON, True, device=f"sos-{i}") for i in range(10)]
    add(redis_client, names, *presses)
    dying = consumer_for(consumer="w1", reclaim_idle_ms=60_000)
    batch = dying.read(block_ms=0)
    assert len(batch) == 10
    dying.handle(batch[:4])  # then it is killed: six entries stay pending for w1
    assert pending(redis_client, names) == 6
    survivor = consumer_for(consumer="w2", reclaim_idle_ms=0)
    drain(survivor)
    assert sorted(a.source for a in alerts(village)) == sorted(f"sos-{i}" for i in range(10))
    assert survivor.counts["reclaimed"] == 6
    assert pending(redis_client, names) == 0


def test_a_poison_entry_goes_to_the_dead_letter_stream_after_max_failures(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    poison = {**fall(), "payload": '{"schema_version": 1, "event_id": "x"}'}
    poison_id, _ = add(redis_client, names, poison, fall())
    for _ in range(5):
        consumer.poll(block_ms=0)
    assert len(alerts(village)) == 1
    ((_letter_id, letter),) = redis_client.xrange(names.deadletter)
    assert letter["reason"] == "rules_failed" and letter["entry_id"] == poison_id
    assert letter["attempts"] == "3" and "does not match the contract" in letter["detail"]
    assert letter["key"] == poison["key"] and letter["topic"] == poison["topic"]
    assert consumer.counts["failures"] == 3 and consumer.counts["deadlettered"] == 1
    assert pending(redis_client, names) == 0


def test_an_entry_that_kills_its_workers_is_dead_lettered_too(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    (entry_id,) = add(redis_client, names, fall())
    redis_client.xreadgroup("rules", "crashing", {names.events: ">"}, count=1)
    for _ in range(3):  # three more workers took it and died; this claim is its 5th delivery
        redis_client.xclaim(names.events, "rules", "crashing", 0, [entry_id])
    consumer.poll(block_ms=0)
    ((_, letter),) = redis_client.xrange(names.deadletter)
    assert letter["entry_id"] == entry_id and "delivered 5 times" in letter["detail"]
    assert alerts(village) == []


def test_a_database_outage_is_waited_out_not_counted_against_entries(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    add(redis_client, names, fall())
    away = make_sessionmaker(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    consumer.sessions = consumer.engine.sessions = away
    for _ in range(4):
        with pytest.raises(OperationalError):
            consumer.poll(block_ms=0)
    assert consumer.counts.get("failures", 0) == 0
    consumer.sessions = consumer.engine.sessions = village
    drain(consumer)
    assert len(alerts(village)) == 1 and redis_client.xlen(names.deadletter) == 0


def test_a_connection_the_database_dropped_is_retried_without_pre_ping(
    consumer_for: Callable[..., RulesConsumer],
    redis_client: redis.Redis,
    names: RedisNames,
    database_url: str,
) -> None:
    """The worker's engine has no pre-ping (one round trip less per transaction): a pooled
    connection the server has closed fails one round, which is retried as an outage."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to drop the connection")
    engine = make_engine(database_url, pre_ping=False)
    worker_sessions = make_sessionmaker(engine)
    consumer = consumer_for()
    consumer.sessions = consumer.engine.sessions = worker_sessions
    add(redis_client, names, fall())
    drain(consumer)
    with engine.connect() as connection:  # the pooled connection the worker will use next
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with create_engine(database_url).connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    add(redis_client, names, fall())
    with pytest.raises(OperationalError):
        consumer.poll(block_ms=0)
    drain(consumer)
    assert consumer.counts.get("failures", 0) == 0
    with worker_sessions() as session:
        assert session.scalar(select(func.count()).select_from(AlertEvent)) == 2
    engine.dispose()


def test_snapshots_waiting_too_long_for_their_event_are_forgotten(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    lost = fall(snapshot=True)
    add(redis_client, names, snapshot(lost))
    drain(consumer)
    clock.advance(3 * 24 * 3600)
    consumer.housekeeping()
    (event_entry,) = add(redis_client, names, lost)
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.snapshot_path is None
    assert changes(redis_client, names)[0].entry_id == event_entry


def test_a_deadlock_with_another_workers_batch_is_retried_entry_by_entry(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: no deadlocks")
    first = [sensor(SensorType.SOS_BUTTON, True, device=d) for d in ("sos-x", "sos-y")]
    add(redis_client, names, *first)
    drain(consumer)
    key = "sos_button|site=tongren-bijiang-01|source={}"
    locked = threading.Event()
    other_lost: list[bool] = []

    def other_worker() -> None:  # holds y, then wants x: the opposite order of the batch
        with village.kw["bind"].connect() as connection, connection.begin():
            lock = text("SELECT alert_id FROM alert_groups WHERE group_key = :k FOR UPDATE")
            connection.execute(lock, {"k": key.format("sos-y")})
            locked.set()
            time.sleep(0.3)
            try:
                connection.execute(lock, {"k": key.format("sos-x")})
            except OperationalError:
                other_lost.append(True)

    thread = threading.Thread(target=other_worker)
    thread.start()
    locked.wait(5)
    ids = add(
        redis_client,
        names,
        *(sensor(SensorType.SOS_BUTTON, True, device=d) for d in ("sos-x", "sos-y")),
    )
    batch = consumer.read(block_ms=0)
    assert [entry_id for entry_id, _ in batch] == ids
    assert consumer.handle(batch) == 2
    thread.join(10)
    assert [a.event_count for a in alerts(village)] == [2, 2]
    assert consumer.counts.get("failures", 0) == 0
    assert other_lost or consumer.counts["lock_conflicts"] == 1, "no deadlock happened"
