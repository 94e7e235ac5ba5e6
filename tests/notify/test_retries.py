"""Failures worth retrying come back after exponential back-off (a due time in the delivery
log, so a restarted or another worker picks them up); the others are given up at once."""

from collections.abc import Callable
from datetime import timedelta

import redis
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.notifications import DeliveryOutcome
from tests.notify.builders import T0, Clock, browser, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge
from tests.notify.test_delivery import deliveries, subscribe


def test_push_service_errors_are_retried_with_back_off_until_accepted(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
) -> None:
    subscribe(sessions, ("guardian", 1), browser(edge.url("/push/phone")))
    edge.script("/push/phone", 500, 500, 201)
    notifier = notifier_for()
    publish(redis_client, names.stream, job("webpush"))

    settle(notifier)
    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts) == (DeliveryOutcome.PENDING, 1)
    assert row.next_attempt_at == T0 + timedelta(seconds=5)
    assert "500" in (row.last_error or "")

    clock.advance(4.9)
    settle(notifier)
    assert len(edge.to("/push/phone")) == 1  # not due yet
    clock.advance(0.1)
    settle(notifier)
    [row] = deliveries(sessions)
    assert len(edge.to("/push/phone")) == 2
    assert row.next_attempt_at == clock.now + timedelta(seconds=10)  # doubled

    clock.advance(10)
    settle(notifier)
    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts, row.last_error) == (DeliveryOutcome.SENT, 3, None)
    assert [r.status for r in edge.to("/push/phone")] == [500, 500, 201]
    assert notifier.metrics.retried.labels("webpush")._value.get() == 2
    assert notifier.metrics.sent.labels("webpush")._value.get() == 1


def test_retry_survives_a_restart_and_honours_retry_after(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
) -> None:
    hook = edge.url("/hook/wecom", scheme="json")
    edge.script("/hook/wecom", 429)  # apprise does not pass Retry-After on: normal back-off
    subscribe(sessions, ("guardian", 1), browser(edge.url("/push/phone")))
    edge.script("/push/phone", 503)  # answered with Retry-After: 30
    first = notifier_for(consumer="worker-1")
    publish(redis_client, names.stream, job("webpush", hook))
    settle(first)
    first.sender.drain()  # the worker stops; its replacement starts from the database
    rows = {r.channel: r for r in deliveries(sessions)}
    assert {c: r.outcome for c, r in rows.items()} == {
        "json": DeliveryOutcome.PENDING,
        "webpush": DeliveryOutcome.PENDING,
    }
    assert rows["json"].next_attempt_at == T0 + timedelta(seconds=5)
    assert rows["webpush"].next_attempt_at == T0 + timedelta(seconds=30)
    assert "error=429" in (rows["json"].last_error or "")

    second = notifier_for(consumer="worker-2")
    clock.advance(5)
    settle(second)
    assert [r.status for r in edge.to("/hook/wecom")] == [429, 201]
    assert len(edge.to("/push/phone")) == 1
    clock.advance(25)
    settle(second)
    assert [r.status for r in edge.to("/push/phone")] == [503, 201]
    assert {r.outcome for r in deliveries(sessions)} == {DeliveryOutcome.SENT}


def test_a_delivery_failing_every_attempt_is_given_up(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
) -> None:
    hook = edge.url("/hook/broken", scheme="json")
    edge.script("/hook/broken", *[500] * 10)
    notifier = notifier_for()
    publish(redis_client, names.stream, job(hook))
    for _ in range(6):
        settle(notifier)
        clock.advance(60)
    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts, row.next_attempt_at) == (DeliveryOutcome.FAILED, 4, None)
    assert (row.last_error or "").startswith("gave up after 4 attempts")
    assert len(edge.to("/hook/broken")) == 4
    assert notifier.metrics.failed.labels("json")._value.get() == 1


def test_permanent_push_errors_are_not_retried(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
) -> None:
    subscribe(sessions, ("guardian", 1), browser(edge.url("/push/phone")))
    edge.script("/push/phone", 403)
    notifier = notifier_for()
    publish(redis_client, names.stream, job("webpush"))
    settle(notifier)
    clock.advance(3600)
    settle(notifier)
    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts) == (DeliveryOutcome.FAILED, 1)
    assert "another VAPID key" in (row.last_error or "")
