"""Escalation ladders in Redis: steps while nobody acknowledges, stopped by acknowledgement,
kept across a restart of the rules worker and across a worker dying mid-step; alerts due
together escalate in one transaction, and one that fails holds back no other."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from records.feed import Change, NotificationJob
from records.lifecycle import transition
from records.timers import escalation_timers
from records.types import AlertStatus
from rules import engine
from rules.book import AlertBook
from rules.consumer import RulesConsumer
from rules.definitions import AlertSpec, RuleSet
from shouwang.contracts import EventType, Phase, SensorType
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import NOON, event, sensor
from tests.rules.conftest import (
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


def steps_notified(client: redis.Redis, names: RedisNames) -> list[tuple[int, str]]:
    """The escalation steps notified, as (step, role)."""
    jobs = notified(client, names)
    return sorted({(job.step, job.role) for job in jobs if job.step > 0 and job.stage.isdigit()})


def test_ladder_climbs_while_nobody_acknowledges(
    fallen: int,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    clock.advance(59)
    drain(consumer)
    assert steps_notified(redis_client, names) == []
    clock.advance(2)
    drain(consumer)
    assert steps_notified(redis_client, names) == [(1, "grid_worker")]
    clock.advance(120)
    drain(consumer)
    assert steps_notified(redis_client, names) == [(1, "grid_worker"), (2, "duty_officer")]
    (alert,) = alerts(village)
    assert alert.escalation_step == 2 and alert.status is AlertStatus.NEW
    escalated = [c for c in changes(redis_client, names) if c.change is Change.ESCALATED]
    assert [c.alert["escalation_step"] for c in escalated] == [1, 2]


def test_a_reopened_alert_climbs_the_reopening_rules_ladder_again(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    """She is found on the floor (high: grid worker after 60 s); the officer closes it while
    she is still down; a minute later it is a long lie, which reopens it critical, and the
    long lie's ladder (town duty office after 60 s, police after 180 s) runs from then."""
    down = event(EventType.PERSON_DOWN, at=NOON, attributes={"down_s": 20.0})
    add(redis_client, names, down)
    drain(consumer)
    clock.advance(61)
    drain(consumer)
    (alert,) = alerts(village)
    assert (alert.rule_id, alert.escalation_step) == ("elder_person_down", 1)
    staff_acknowledge(village, redis_client, names, alert.id)
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
    assert (alert.status, alert.severity.value, alert.rule_id, alert.escalation_step) == (
        AlertStatus.NEW,
        "critical",
        "elder_long_lie",
        0,
    )
    assert alert.reopened_at is not None

    def ladder() -> list[tuple[int, str, str]]:
        jobs = notified(redis_client, names)
        return sorted({(j.step, j.stage, j.role) for j in jobs if j.stage.startswith("reopened4.")})

    clock.advance(59)
    drain(consumer)
    assert ladder() == []
    clock.advance(2)
    drain(consumer)
    assert ladder() == [(1, "reopened4.1", "duty_officer")]
    clock.advance(120)
    drain(consumer)
    assert ladder() == [(1, "reopened4.1", "duty_officer"), (2, "reopened4.2", "police")]
    (alert,) = alerts(village)
    assert alert.escalation_step == 2


def test_acknowledgement_stops_the_ladder(
    fallen: int,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    clock.advance(61)
    drain(consumer)
    staff_acknowledge(village, redis_client, names, fallen)
    assert escalation_timers(redis_client, names.prefix).due_ms(str(fallen)) is None
    clock.advance(600)
    drain(consumer)
    assert steps_notified(redis_client, names) == [(1, "grid_worker")]


def test_acknowledged_alert_whose_timer_survived_notifies_nobody(
    fallen: int,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    # Acknowledged by a process that stopped before cancelling the timer.
    with village.begin() as session:
        transition(session, fallen, AlertStatus.ACKNOWLEDGED, actor="a", expected_version=1)
    clock.advance(400)
    drain(consumer)
    assert steps_notified(redis_client, names) == []
    assert escalation_timers(redis_client, names.prefix).due_ms(str(fallen)) is None


def test_ladder_survives_a_restart_of_the_rules_worker(
    fallen: int,
    consumer: RulesConsumer,
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    del consumer  # the worker that raised the alert stops; its timers stay in Redis
    restart(consumer_for, clock, 200)  # it was down while steps 1 and 2 came due
    assert steps_notified(redis_client, names) == [(1, "grid_worker"), (2, "duty_officer")]
    staff_acknowledge(village, redis_client, names, fallen)
    clock.advance(200)
    drain(consumer_for())
    assert steps_notified(redis_client, names) == [(1, "grid_worker"), (2, "duty_officer")]
    (alert,) = alerts(village)
    assert alert.escalation_step == 2


def test_a_step_claimed_by_a_worker_that_died_is_done_by_another(
    fallen: int,
    consumer_for: Callable[..., RulesConsumer],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    clock.advance(61)
    timers = escalation_timers(redis_client, names.prefix)
    claimed = timers.claim_due(int(clock() * 1000), lease_ms=30_000)
    assert [member for member, _ in claimed] == [str(fallen)]  # …and that worker dies
    other = consumer_for(consumer="w2")
    drain(other)
    assert steps_notified(redis_client, names) == []
    clock.advance(31)
    drain(other)
    assert steps_notified(redis_client, names) == [(1, "grid_worker")]


def test_every_overdue_step_fires_once(
    fallen: int,
    consumer: RulesConsumer,
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    clock.advance(3600)
    drain(consumer)
    drain(consumer)
    assert steps_notified(redis_client, names) == [
        (1, "grid_worker"),
        (2, "duty_officer"),
        (3, "police"),
    ]
    jobs = [job for job in notified(redis_client, names) if job.stage.isdigit()]
    assert len({job.job_id for job in jobs}) == len(jobs) == 4 + 3
    assert escalation_timers(redis_client, names.prefix).due_ms(str(fallen)) is None


def test_alerts_due_together_escalate_together_and_one_failing_holds_back_no_other(
    fallen: int,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add(redis_client, names, sensor(SensorType.SOS_BUTTON, True, device="sos-wang", at=NOON))
    drain(consumer)
    _, pressed = (a.id for a in alerts(village))
    real_escalate = engine.escalate

    def failing_for_the_fall(book: AlertBook, alert_id: int, *args: Any) -> Any:
        if alert_id == fallen:
            raise RuntimeError("the fall's rule cannot be read")
        return real_escalate(book, alert_id, *args)

    monkeypatch.setattr(engine, "escalate", failing_for_the_fall)
    clock.advance(61)
    drain(consumer)
    escalated = {job.alert_id for job in jobs_at_step(redis_client, names, 1)}
    assert escalated == {pressed}
    timers = escalation_timers(redis_client, names.prefix)
    assert timers.due_ms(str(pressed)) == int((NOON.timestamp() + 180) * 1000)
    assert timers.due_ms(str(fallen)) == int(clock() * 1000) + 30_000, "back after its lease"
    monkeypatch.undo()
    clock.advance(31)
    drain(consumer)
    assert {job.alert_id for job in jobs_at_step(redis_client, names, 1)} == {fallen, pressed}


def jobs_at_step(client: redis.Redis, names: RedisNames, step: int) -> list[NotificationJob]:
    return [job for job in notified(client, names) if job.step == step and job.stage.isdigit()]


def _repeating(rules: RuleSet, every_s: float, times: int) -> RuleSet:
    """The default rules with elder_fall's last step (police at 300 s) repeating."""
    fall = rules.by_id("elder_fall")
    assert fall is not None
    spec = fall.alert.model_copy(update={"repeat_last_s": every_s, "repeat_last_times": times})
    changed = fall.model_copy(update={"alert": spec})
    return rules.model_copy(update={"rules": [changed if r is fall else r for r in rules.rules]})


def test_the_last_step_repeats_until_staff_acknowledge(
    consumer_for: Callable[..., RulesConsumer],
    default_rules: RuleSet,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    consumer = consumer_for(rules=_repeating(default_rules, every_s=120, times=3))
    add(redis_client, names, event(EventType.FALL, camera="cam-home-wang"))
    drain(consumer)
    (alert,) = alerts(village)
    clock.advance(301)
    drain(consumer)
    assert [s for s, role in steps_notified(redis_client, names) if role == "police"] == [3]
    clock.advance(120)  # 421 s: the police are called again
    drain(consumer)
    assert [s for s, role in steps_notified(redis_client, names) if role == "police"] == [3, 4]
    staff_acknowledge(village, redis_client, names, alert.id)
    clock.advance(600)  # the repeats at 540 s and 660 s never come
    drain(consumer)
    assert [s for s, role in steps_notified(redis_client, names) if role == "police"] == [3, 4]
    assert escalation_timers(redis_client, names.prefix).due_ms(str(alert.id)) is None


def test_repeats_stop_after_their_count(
    consumer_for: Callable[..., RulesConsumer],
    default_rules: RuleSet,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    consumer = consumer_for(rules=_repeating(default_rules, every_s=60, times=2))
    add(redis_client, names, event(EventType.FALL, camera="cam-home-wang"))
    drain(consumer)
    for _ in range(10):  # an hour in six-minute strides: nobody ever acknowledges
        clock.advance(360)
        drain(consumer)
    (alert,) = alerts(village)
    assert alert.escalation_step == 5  # 3 steps and 2 repeats
    police = [s for s, role in steps_notified(redis_client, names) if role == "police"]
    assert police == [3, 4, 5]


def test_a_repeat_needs_a_ladder() -> None:
    with pytest.raises(ValidationError, match="repeat_last_s repeats the last escalation step"):
        AlertSpec.model_validate({"severity": "high", "title": "x", "repeat_last_s": 60})
