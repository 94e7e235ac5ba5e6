"""派单: a dispatch tells its assignee once, with the due time; a re-dispatch tells the new
one; Redis being away after the commit does not fail the dispatch. With real Redis and both
databases, on the test's clock."""

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import AlertTransition
from records.feed import DISPATCH_STAGE
from records.lifecycle import InvalidTransition
from records.types import AlertStatus
from rules.consumer import RulesConsumer
from tests.helpers.dispatches import dispatch_job, staff_id
from tests.records.redis_fixtures import RedisNames
from tests.rules.conftest import Case, Clock, alerts, drain, notified

pytestmark = pytest.mark.integration


@pytest.fixture
def case(case: Case) -> Case:
    """王秀英's fall case, someone on site, acknowledged by the duty office."""
    case.move(AlertStatus.ACKNOWLEDGED)
    return case


def test_a_dispatch_tells_its_assignee_once_with_the_due_time(
    case: Case,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    yang = staff_id(village, "杨秀兰")
    clock.advance(60)
    case.move(AlertStatus.DISPATCHED, assignee_id=yang, note="派给 杨秀兰")
    drain(consumer)
    (job,) = notified(redis_client, names, DISPATCH_STAGE)
    # Dispatched 12:01 Beijing time; critical: due 30 minutes later.
    assert job.body.startswith("【危急】派单：请于12:31前到场处置｜老人跌倒：王秀英")
    assert (job.lead, job.place) == ("派单：请于12:31前到场处置", "马岩村一组12号")
    assert (job.recipient_type, job.recipient_id, job.recipient_name) == ("staff", yang, "杨秀兰")
    assert (job.role, job.phone) == ("grid_worker", "13800000001")
    assert job.channels == ("dingtalk://example-token-1",)
    assert job.job_id == dispatch_job(village, case.id, yang)
    clock.advance(5)
    drain(consumer)  # the timer fires again (the reminder): the assignee is not told again
    clock.advance(600)
    drain(consumer)
    assert len(notified(redis_client, names, DISPATCH_STAGE)) == 1
    with pytest.raises(InvalidTransition, match="re-dispatch names someone else"):
        case.move(AlertStatus.DISPATCHED, assignee_id=yang)
    drain(consumer)
    assert len(notified(redis_client, names, DISPATCH_STAGE)) == 1


def test_a_re_dispatch_tells_the_new_assignee_and_not_the_first_again(
    case: Case,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    yang, police = staff_id(village, "杨秀兰"), staff_id(village, "灯塔派出所")
    case.move(AlertStatus.DISPATCHED, assignee_id=yang)
    drain(consumer)
    (first,) = alerts(village)
    clock.advance(120)
    case.move(AlertStatus.DISPATCHED, assignee_id=police, note="派给 灯塔派出所")
    drain(consumer)
    told = notified(redis_client, names, DISPATCH_STAGE)
    assert [(j.recipient_name, j.role) for j in told] == [
        ("杨秀兰", "grid_worker"),
        ("灯塔派出所", "police"),
    ]
    assert "派单：请于12:30前到场处置" in told[1].body  # the case keeps its due time
    (alert,) = alerts(village)
    assert alert.status is AlertStatus.DISPATCHED
    assert alert.dispatched_at == first.dispatched_at and alert.due_at == first.due_at


def test_dispatches_made_while_the_rules_were_away_tell_only_the_latest_assignee(
    case: Case,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    case.move(AlertStatus.DISPATCHED, assignee_id=staff_id(village, "杨秀兰"))
    case.move(AlertStatus.DISPATCHED, assignee_id=staff_id(village, "灯塔派出所"))
    drain(consumer)
    told = notified(redis_client, names, DISPATCH_STAGE)
    assert [j.recipient_name for j in told] == ["灯塔派出所"]


def test_redis_away_after_the_commit_does_not_fail_the_dispatch(
    case: Case,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    caplog: pytest.LogCaptureFixture,
) -> None:
    yang = staff_id(village, "杨秀兰")
    away = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    # No exception: it is committed.
    case.move(AlertStatus.DISPATCHED, assignee_id=yang, client=away)
    (alert,) = alerts(village)
    assert alert.status is AlertStatus.DISPATCHED
    with village() as session:
        rows = session.scalars(
            select(AlertTransition).where(AlertTransition.assignee_id == yang)
        ).all()
    assert len(rows) == 1
    # The poke of the lifecycle timer waits in the outbox: the worker's sweep applies it, and
    # the engine then tells the assignee.
    drain(consumer)
    assert [j.recipient_name for j in notified(redis_client, names, DISPATCH_STAGE)] == ["杨秀兰"]
