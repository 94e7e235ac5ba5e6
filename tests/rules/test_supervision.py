"""督办: a dispatched case gets a due time by severity and, past it, the supervisors are told;
a supervisor's urge is told to the staff on the case; an acknowledged critical alert still
unresolved is notified again. On a shortened clock, with real Redis and both databases."""

from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import AlertTransition
from records.feed import Change
from records.lifecycle import urge
from records.timers import lifecycle_timers
from records.types import AlertStatus, AuditAction
from rules.consumer import RulesConsumer
from tests.records.redis_fixtures import RedisNames
from tests.rules.conftest import Case, Clock, alerts, changes, drain, notified, restart

pytestmark = pytest.mark.integration


def test_a_dispatched_case_past_its_due_time_tells_the_supervisors_once_across_a_restart(
    case: Case,
    consumer: RulesConsumer,
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    clock.advance(20)
    case.move(AlertStatus.ACKNOWLEDGED)
    clock.advance(20)
    case.move(AlertStatus.DISPATCHED, "派杨秀兰上门")
    dispatched = clock.at()
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.dispatched_at == dispatched
    assert alert.due_at == dispatched + timedelta(seconds=1800)  # critical: 30 minutes
    assert Change.DUE in {c.change for c in changes(redis_client, names)}
    timers = lifecycle_timers(redis_client, names.prefix)
    # Next due: the reminder 10 minutes after the acknowledgement, before the due time.
    assert timers.due_ms(str(case.id)) == int(
        (dispatched + timedelta(seconds=580)).timestamp() * 1000
    )

    del consumer  # the worker stops; the timers stay in Redis
    restart(consumer_for, clock, 1801)
    drain(consumer_for())
    told = notified(redis_client, names, "overdue")
    assert [(j.role, j.recipient_name) for j in told] == [("supervisor", "灯塔街道综治中心主任")]
    assert "已超过处置时限" in told[0].body
    (alert,) = alerts(village)
    assert alert.overdue_at is not None and alert.status is AlertStatus.DISPATCHED
    assert Change.OVERDUE in {c.change for c in changes(redis_client, names)}


def test_a_case_resolved_in_time_is_never_overdue(
    case: Case, consumer: RulesConsumer, redis_client: redis.Redis, names: RedisNames, clock: Clock
) -> None:
    case.move(AlertStatus.ACKNOWLEDGED)
    case.move(AlertStatus.DISPATCHED)
    drain(consumer)
    clock.advance(300)
    case.move(AlertStatus.RESOLVED, "老人已送医")
    clock.advance(3600)
    drain(consumer)
    assert notified(redis_client, names, "overdue") == []
    assert notified(redis_client, names, "remind") == []
    assert lifecycle_timers(redis_client, names.prefix).due_ms(str(case.id)) is None


def test_an_urge_is_recorded_and_told_to_the_staff_on_the_case(
    case: Case,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    case.move(AlertStatus.ACKNOWLEDGED)
    case.move(AlertStatus.DISPATCHED)
    drain(consumer)
    urge(
        village,
        redis_client,
        case.id,
        actor="灯塔街道综治中心主任",
        actor_id=None,
        note="十分钟内回报老人情况",
        streams=names.streams,
        rules_prefix=names.prefix,
        now=clock.at(),
    )
    drain(consumer)
    told = notified(redis_client, names, "urge")
    assert {j.role for j in told} == {"grid_worker", "duty_officer"}  # staff, not the family
    assert all("督办：十分钟内回报老人情况" in j.body for j in told)
    assert {(j.lead, j.place) for j in told} == {("督办：十分钟内回报老人情况", "马岩村一组12号")}
    (alert,) = alerts(village)
    assert alert.urged_by == "灯塔街道综治中心主任" and alert.version == case.version
    with village() as session:
        (row,) = session.scalars(
            select(AlertTransition).where(
                AlertTransition.alert_id == case.id, AlertTransition.action == AuditAction.URGE
            )
        ).all()
    assert row.note == "十分钟内回报老人情况"
    drain(consumer)
    assert len(notified(redis_client, names, "urge")) == len(told)  # told once


def test_an_acknowledged_critical_alert_unresolved_is_notified_again(
    case: Case,
    consumer: RulesConsumer,
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    case.move(AlertStatus.ACKNOWLEDGED)
    clock.advance(590)
    drain(consumer)
    assert notified(redis_client, names, "remind") == []
    clock.advance(20)
    drain(consumer)
    first = notified(redis_client, names, "remind")
    assert {j.role for j in first} == {"grid_worker", "duty_officer"}
    assert all("已确认10分钟仍未处置" in j.body for j in first)
    clock.advance(1200)  # two intervals later: one reminder, not two
    drain(consumer)
    assert {j.stage for j in notified(redis_client, names, "remind")} == {"remind1", "remind3"}
    case.move(AlertStatus.RESOLVED, "已处置")
    clock.advance(1200)
    drain(consumer)
    assert {j.stage for j in notified(redis_client, names, "remind")} == {"remind1", "remind3"}
