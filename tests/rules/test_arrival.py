"""Arrival on site (已到场): an alert's arrival timer tells the arrival recipients when nobody is
on site in time; a staff member's arrival stops it, acknowledgement does not. On a shortened
clock, with real Redis and both databases."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import AlertTransition
from records.feed import Change, NotificationJob, job_stage
from records.lifecycle import mark_arrival, transition
from records.timers import escalation_timers, lifecycle_timers
from records.types import AlertStatus, AuditAction
from rules.consumer import RulesConsumer
from rules.definitions import parse_rules
from shouwang.contracts import EventType, Phase
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import NOON, event
from tests.rules.conftest import (
    DEFAULT_RULES,
    Clock,
    add,
    alerts,
    changes,
    drain,
    notified,
    restart,
    staff_acknowledge,
)

pytestmark = pytest.mark.integration


def arrival_jobs(client: redis.Redis, names: RedisNames) -> list[NotificationJob]:
    """The notices that nobody was on site in time."""
    return [job for job in notified(client, names) if ":arrival" in job.job_id]


def arrive(
    village: sessionmaker[Session],
    client: redis.Redis,
    names: RedisNames,
    alert_id: int,
    clock: Clock,
    *,
    user_id: int = 7,
    note: str = "",
) -> bool:
    return mark_arrival(
        village,
        client,
        alert_id,
        actor="杨秀兰",
        actor_id=user_id,
        note=note,
        streams=names.streams,
        now=clock.at(),
    )


def test_nobody_on_site_in_time_is_told_though_staff_acknowledged(
    fallen: int,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    (alert,) = alerts(village)
    created_ms = int(alert.created_at.timestamp() * 1000)
    lifecycle = lifecycle_timers(redis_client, names.prefix)
    assert lifecycle.due_ms(str(fallen)) == created_ms + 180_000
    clock.advance(30)
    staff_acknowledge(village, redis_client, names, fallen, clock.at())
    assert escalation_timers(redis_client, names.prefix).due_ms(str(fallen)) is None
    clock.advance(145)  # 2 min 55 s
    drain(consumer)
    assert arrival_jobs(redis_client, names) == []

    clock.advance(10)
    drain(consumer)
    told = arrival_jobs(redis_client, names)
    assert {j.role for j in told} == {"duty_officer"}
    assert all(j.body.startswith("【危急】3分钟内无人到场｜") for j in told)
    (alert,) = alerts(village)
    assert alert.status is AlertStatus.ACKNOWLEDGED and alert.arrival_missed_at is not None
    assert Change.ARRIVAL_MISSED in {c.change for c in changes(redis_client, names)}
    # What is left: the reminder, 10 minutes after the acknowledgement.
    assert lifecycle.due_ms(str(fallen)) == created_ms + 30_000 + 600_000
    clock.advance(600)
    drain(consumer)
    assert len(arrival_jobs(redis_client, names)) == len(told)  # told once


def test_arrival_stops_the_arrival_timer_only(
    fallen: int,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    clock.advance(100)
    assert arrive(village, redis_client, names, fallen, clock, note="院子门口")
    assert not arrive(village, redis_client, names, fallen, clock)  # once per person
    clock.advance(300)
    drain(consumer)

    assert arrival_jobs(redis_client, names) == []
    (alert,) = alerts(village)
    assert alert.arrived_by == "杨秀兰" and alert.arrival_missed_at is None
    assert alert.arrived_at == datetime.fromtimestamp(clock.now - 300, UTC)
    assert alert.status is AlertStatus.NEW and alert.version == 1
    assert alert.escalation_step == 3  # nobody acknowledged: the ladder ran on
    with village() as session:
        trail = session.scalars(
            select(AlertTransition).where(AlertTransition.alert_id == fallen)
        ).all()
    assert [(t.action, t.actor, t.note) for t in trail] == [
        (AuditAction.STATUS, "rules", "raised by rule elder_fall"),
        (AuditAction.ARRIVAL, "杨秀兰", "院子门口"),
    ]
    assert Change.ARRIVED in {c.change for c in changes(redis_client, names)}


def test_a_reopened_alert_restarts_the_arrival_deadline(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    """She is found on the floor (high: 5 minutes to be on site); the grid worker arrives and
    the case is resolved while she is still down; the long lie reopens it critical: nobody is
    on site any more, the 3 minutes run from the reopening, and she may arrive again."""
    down = event(EventType.PERSON_DOWN, at=NOON, attributes={"down_s": 20.0})
    add(redis_client, names, down)
    drain(consumer)
    (alert,) = alerts(village)
    clock.advance(60)
    assert arrive(village, redis_client, names, alert.id, clock)
    staff_acknowledge(village, redis_client, names, alert.id, clock.at())
    with village.begin() as session:
        transition(
            session,
            alert.id,
            AlertStatus.RESOLVED,
            actor="值班员",
            expected_version=2,
            note="已处理",
        )
    clock.advance(300)
    drain(consumer)
    long_lie = event(
        EventType.PERSON_DOWN,
        phase=Phase.UPDATE,
        at=NOON + timedelta(seconds=361),
        started_at=NOON,
        episode_id=down["key"].removeprefix("event:"),
        attributes={"down_s": 381.0, "long_lie": True},
    )
    add(redis_client, names, long_lie)
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.status is AlertStatus.NEW and alert.reopened_at is not None
    assert (alert.arrived_at, alert.arrived_by, alert.arrival_missed_at) == (None, None, None)
    reopened_ms = int(alert.reopened_at.timestamp() * 1000)
    assert lifecycle_timers(redis_client, names.prefix).due_ms(str(alert.id)) == (
        reopened_ms + 180_000
    )

    clock.advance(179)
    drain(consumer)
    assert arrival_jobs(redis_client, names) == []
    clock.advance(2)
    drain(consumer)
    told = arrival_jobs(redis_client, names)
    assert {j.role for j in told} == {"duty_officer"}
    assert all(j.body.startswith("【危急】3分钟内无人到场｜") for j in told)
    assert {job_stage(j.job_id) for j in told} == {f"arrival{alert.version}"}
    assert arrive(village, redis_client, names, alert.id, clock)  # on site again
    (alert,) = alerts(village)
    assert alert.arrived_by == "杨秀兰" and alert.arrived_at == clock.at()


def test_the_arrival_timer_survives_a_rules_worker_restart(
    fallen: int,
    consumer: RulesConsumer,
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    del consumer  # the worker stops before the deadline; the timer stays in Redis
    restart(consumer_for, clock, 200)
    drain(consumer_for())
    told = arrival_jobs(redis_client, names)
    assert {j.role for j in told} == {"duty_officer"}
    assert len({j.job_id for j in told}) == len(told)


def test_a_rule_sets_its_own_deadline_and_recipients(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    own = "      arrival_s: 60\n      arrival_notify: [grid_worker]\n"
    title = '      title: "老人跌倒：{persons}"\n'
    text = DEFAULT_RULES.read_text(encoding="utf-8").replace(title, title + own)
    consumer = consumer_for(parse_rules(text))
    add(redis_client, names, event(EventType.FALL, camera="cam-home-wang"))
    drain(consumer)
    clock.advance(61)
    drain(consumer)
    told = arrival_jobs(redis_client, names)
    assert [(j.role, j.recipient_name) for j in told] == [("grid_worker", "杨秀兰")]
    assert told[0].body.startswith("【危急】1分钟内无人到场｜")


def test_arrival_deadlines_by_severity() -> None:
    rules = parse_rules(DEFAULT_RULES.read_text(encoding="utf-8"))
    deadlines = {
        rule.id: rules.response.arrival(rule.alert, rule.alert.severity) for rule in rules.rules
    }
    assert deadlines["elder_fall"] == 180 and deadlines["elder_person_down"] == 300
    assert deadlines["sensor_battery_low"] is None
    off = parse_rules(
        DEFAULT_RULES.read_text(encoding="utf-8").replace(
            "  arrival_s: {critical: 180, high: 300}\n", "  arrival_s: {critical: 240}\n"
        )
    )
    fall = off.by_id("elder_fall")
    person_down = off.by_id("elder_person_down")
    assert fall is not None and person_down is not None
    assert off.response.arrival(fall.alert, fall.alert.severity) == 240
    assert off.response.arrival(person_down.alert, person_down.alert.severity) is None
