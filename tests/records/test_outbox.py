"""The outbox: outputs queued in the writer's transaction, published after commit by the writer
(exactly the entries it wrote) or by a sweep (entries a dead writer left), each once; timer
changes applied with the stream entries, in order, harmlessly twice."""

from dataclasses import replace
from datetime import UTC, datetime

import redis
from sqlalchemy.orm import Session, sessionmaker

from records.feed import AlertChange, Change, NotificationJob
from records.outbox import add_outputs, publish, publish_pending
from records.timers import TimerOp, TimerSet
from tests.records.redis_fixtures import RedisNames

T0 = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def change(alert_id: int) -> AlertChange:
    return AlertChange(
        alert_id=alert_id,
        change=Change.CREATED,
        status="new",
        version=1,
        severity="critical",
        site="s1",
        area_id=None,
        person_ids=(7,),
        at=T0,
        alert={"id": alert_id},
    )


def job(alert_id: int) -> NotificationJob:
    return NotificationJob(
        job_id=f"{alert_id}:0:staff:1",
        alert_id=alert_id,
        step=0,
        severity="critical",
        title="老人跌倒",
        body="【危急】老人跌倒",
        place="",
        lead="",
        recipient_type="staff",
        recipient_id=1,
        recipient_name="网格员",
        role="grid_worker",
        phone="1",
        channels=("webpush",),
        created_at=T0,
    )


def test_the_writer_publishes_its_own_entries_once_and_a_sweep_the_rest(
    sessions: sessionmaker[Session], redis_client: redis.Redis, names: RedisNames
) -> None:
    with sessions.begin() as session:
        mine = add_outputs(session, [change(1), job(1), change(2)])
    with sessions.begin() as session:
        orphaned = add_outputs(session, [change(3)])  # its writer died before publishing
    assert len(mine) == 3 and len(orphaned) == 1
    assert publish(sessions, redis_client, names.streams, mine[:1]) == 1  # someone took one
    assert publish(sessions, redis_client, names.streams, mine) == 2, "the rest, once"
    assert publish(sessions, redis_client, names.streams, mine) == 0
    assert publish_pending(sessions, redis_client, names.streams) == 1
    assert publish_pending(sessions, redis_client, names.streams) == 0
    changes = [AlertChange.from_fields(f) for _, f in redis_client.xrange(names.streams.alerts)]
    assert [(c.alert_id, c.seq) for c in changes] == [
        (1, mine[0]),
        (2, mine[2]),
        (3, orphaned[0]),
    ]
    ((_, fields),) = redis_client.xrange(names.streams.notifications)
    assert NotificationJob.from_fields(fields) == replace(job(1), seq=mine[1])


def test_timers_set_and_cancelled_together(redis_client: redis.Redis, names: RedisNames) -> None:
    timers = TimerSet(redis_client, f"{names.prefix}:escalations")
    timers.set_many({"1": 1_000, "2": 2_000})
    timers.set_many({"1": None, "2": 3_000, "3": 4_000})
    assert [timers.due_ms(m) for m in ("1", "2", "3")] == [None, 3_000, 4_000]
    timers.set_many({})


def test_timer_changes_are_applied_in_order_with_the_stream_entries_and_harmless_twice(
    sessions: sessionmaker[Session], redis_client: redis.Redis, names: RedisNames
) -> None:
    lifecycle = TimerSet(redis_client, f"{names.prefix}:lifecycle")
    escalations = TimerSet(redis_client, f"{names.prefix}:escalations")
    lifecycle.set_many({"1": 5_000, "2": 1_000})
    escalations.set_many({"1": 9_000, "4": 9_000})
    ops = [
        TimerOp(lifecycle.key, "1", 2_000),  # made due earlier
        TimerOp(lifecycle.key, "2", 2_000),  # due earlier already: stays
        TimerOp(lifecycle.key, "3", 2_000),  # not set: set
        TimerOp(escalations.key, "1", None),
        TimerOp(escalations.key, "4", None),  # cancelled, then poked: in order
        TimerOp(escalations.key, "4", 3_000),
    ]
    with sessions.begin() as session:
        add_outputs(session, [change(1), *ops])
    assert publish_pending(sessions, redis_client, names.streams) == 7

    def state() -> list[int | None]:
        return [lifecycle.due_ms(m) for m in "123"] + [escalations.due_ms(m) for m in "14"]

    assert state() == [2_000, 1_000, 2_000, None, 3_000]
    with sessions.begin() as session:  # as a crash before the delete publishes them again
        add_outputs(session, ops)
    assert publish_pending(sessions, redis_client, names.streams) == len(ops)
    assert state() == [2_000, 1_000, 2_000, None, 3_000]
    assert redis_client.xlen(names.streams.alerts) == 1, "timer changes are not streamed"
    assert redis_client.xlen(names.streams.notifications) == 0
