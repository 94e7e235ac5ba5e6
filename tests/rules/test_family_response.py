"""A guardian's "我来处理" is a family response: recorded (who, when) on the alert, in the audit
trail and the live feed, told to the others notified so far, and it stops no escalation; only
staff acknowledgement stops the acknowledge ladder. On a shortened clock, with real Redis and
both databases."""

from collections.abc import Callable

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import AlertTransition
from records.feed import Change, NotificationJob
from records.lifecycle import respond_as_family
from records.people import Guardian
from records.timers import escalation_timers, lifecycle_timers
from records.types import AlertStatus, AuditAction
from records.users import User, UserRole
from rules.consumer import RulesConsumer
from tests.records.redis_fixtures import RedisNames
from tests.rules.conftest import Clock, alerts, changes, drain, notified, restart, staff_acknowledge

pytestmark = pytest.mark.integration


def family_jobs(client: redis.Redis, names: RedisNames) -> list[NotificationJob]:
    """The notices that a guardian answered."""
    return [j for j in notified(client, names) if ":family" in j.job_id]


def ladder(client: redis.Redis, names: RedisNames) -> list[tuple[int, str]]:
    """The escalation steps notified, as (step, role)."""
    return sorted(
        {(j.step, j.role) for j in notified(client, names) if j.step > 0 and j.stage.isdigit()}
    )


def guardian_user(sessions: sessionmaker[Session], name: str) -> int:
    """A sign-in for the watch-list guardian called `name`; its user id."""
    with sessions.begin() as session:
        guardian = session.scalars(select(Guardian).where(Guardian.name == name)).one()
        user = User(
            login=guardian.phone,
            display_name=name,
            password_hash="x",
            role=UserRole.GUARDIAN,
            guardian_id=guardian.id,
        )
        session.add(user)
        session.flush()
        return user.id


def answer(
    village: sessionmaker[Session],
    client: redis.Redis,
    names: RedisNames,
    alert_id: int,
    user_id: int,
    name: str,
    clock: Clock,
) -> bool:
    return respond_as_family(
        village,
        client,
        alert_id,
        actor=name,
        actor_id=user_id,
        note="我来处理",
        streams=names.streams,
        rules_prefix=names.prefix,
        now=clock.at(),
    )


def test_a_guardians_tap_does_not_stop_the_ladder(
    fallen: int,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    wang_li = guardian_user(village, "王丽")
    clock.advance(10)
    assert answer(village, redis_client, names, fallen, wang_li, "王丽", clock)
    assert not answer(village, redis_client, names, fallen, wang_li, "王丽", clock)  # once
    drain(consumer)

    (alert,) = alerts(village)
    assert alert.status is AlertStatus.NEW and alert.version == 1
    assert alert.family_response_by == "王丽" and alert.family_response_at is not None
    assert escalation_timers(redis_client, names.prefix).due_ms(str(fallen)) is not None
    # The others notified so far hear of it: her brother, the grid worker, the duty office;
    # not 王丽 herself.
    told = {(j.recipient_name, j.role) for j in family_jobs(redis_client, names)}
    assert told == {
        ("王强", "guardian"),
        ("杨秀兰", "grid_worker"),
        ("灯塔街道值班室", "duty_officer"),
    }
    assert all("家属已响应：王丽" in j.body for j in family_jobs(redis_client, names))
    with village() as session:
        trail = session.scalars(
            select(AlertTransition).where(AlertTransition.alert_id == fallen)
        ).all()
    assert [(t.action, t.actor) for t in trail] == [
        (AuditAction.STATUS, "rules"),
        (AuditAction.FAMILY_RESPONSE, "王丽"),
    ]
    (family,) = [c for c in changes(redis_client, names) if c.change is Change.FAMILY_RESPONSE]
    assert family.alert["family_response_by"] == "王丽" and family.status == "new"

    # The grid worker and the duty office are still called at 1 and 3 minutes.
    clock.advance(55)
    drain(consumer)
    assert ladder(redis_client, names) == [(1, "grid_worker")]
    clock.advance(120)
    drain(consumer)
    assert ladder(redis_client, names) == [(1, "grid_worker"), (2, "duty_officer")]

    # Staff acknowledgement stops the ladder.
    staff_acknowledge(village, redis_client, names, fallen)
    clock.advance(600)
    drain(consumer)
    assert ladder(redis_client, names) == [(1, "grid_worker"), (2, "duty_officer")]


def test_a_second_guardians_tap_is_told_once_and_survives_a_restart(
    fallen: int,
    consumer: RulesConsumer,
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    wang_li, wang_qiang = guardian_user(village, "王丽"), guardian_user(village, "王强")
    assert answer(village, redis_client, names, fallen, wang_li, "王丽", clock)
    del consumer  # the worker stops before the timer fires; it stays in Redis
    assert lifecycle_timers(redis_client, names.prefix).due_ms(str(fallen)) is not None
    restarted = restart(consumer_for, clock, 0)
    assert answer(village, redis_client, names, fallen, wang_qiang, "王强", clock)
    drain(restarted)
    drain(restarted)
    family = family_jobs(redis_client, names)
    assert len({j.job_id for j in family}) == len(family)
    by_response: dict[str, set[str]] = {}
    for j in family:
        by_response.setdefault(j.job_id.split(":")[1], set()).add(j.recipient_name)
    first, second = (by_response[k] for k in sorted(by_response))
    assert "王丽" not in first and "王强" in first
    assert "王强" not in second and "王丽" in second
    (alert,) = alerts(village)
    assert alert.family_response_by == "王丽"  # the first to answer stays on the card
    # What the timer has left to do: the arrival deadline, 3 minutes after the alert.
    due = lifecycle_timers(redis_client, names.prefix).due_ms(str(fallen))
    assert due == int(alert.created_at.timestamp() * 1000) + 180_000
