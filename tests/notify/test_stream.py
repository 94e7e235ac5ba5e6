"""The intake stage: each job delivered once however often it is published or reclaimed;
acknowledged after commit; poison jobs dead-lettered without holding up the others."""

import base64
import json
from collections.abc import Callable

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.notifications import DeliveryOutcome, Notification
from tests.notify.builders import browser, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge
from tests.notify.test_delivery import deliveries, subscribe


def pending(client: redis.Redis, names: Names) -> int:
    return int(client.xpending(names.stream, names.group)["pending"])


def test_a_job_published_twice_is_delivered_once(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    subscribe(sessions, ("guardian", 1), browser(edge.url("/push/phone")))
    hook = edge.url("/hook/dingtalk", "json")
    twice = job("webpush", hook)
    notifier = notifier_for()
    publish(redis_client, names.stream, twice, twice)  # the outbox published it again
    settle(notifier)
    publish(redis_client, names.stream, twice)  # and once more, long after
    settle(notifier)

    assert len(edge.to("/push/phone")) == 1
    assert len(edge.to("/hook/dingtalk")) == 1
    assert len(deliveries(sessions)) == 2
    assert pending(redis_client, names) == 0
    assert notifier.metrics.jobs.labels("planned")._value.get() == 1
    assert notifier.metrics.jobs.labels("duplicate")._value.get() == 2


def test_jobs_a_dead_worker_read_are_reclaimed_and_delivered_once(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    hooks = [edge.url(f"/hook/{n}", "json") for n in range(5)]
    publish(redis_client, names.stream, *(job(h, recipient_id=n) for n, h in enumerate(hooks)))
    doomed = notifier_for(consumer="doomed")
    assert len(doomed.consumer.read(block_ms=0)) == 5  # read, then the worker died
    assert pending(redis_client, names) == 5

    survivor = notifier_for(consumer="survivor")
    settle(survivor)
    assert pending(redis_client, names) == 0
    assert all(len(edge.to(f"/hook/{n}")) == 1 for n in range(5))
    assert {d.outcome for d in deliveries(sessions)} == {DeliveryOutcome.SENT}


def test_a_job_planned_but_not_acknowledged_is_not_planned_again(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    hook = edge.url("/hook/feishu", "json")
    publish(redis_client, names.stream, job(hook))
    doomed = notifier_for(consumer="doomed")
    entries = doomed.consumer.read(block_ms=0)
    with sessions.begin() as session:  # it committed the plan and died before XACK
        from notify.plan import plan_job, read_job

        [(_, fields)] = entries
        assert fields is not None
        plan_job(session, read_job(fields), doomed.sender.clock())

    survivor = notifier_for(consumer="survivor")
    settle(survivor)
    assert pending(redis_client, names) == 0
    assert len(edge.to("/hook/feishu")) == 1
    assert survivor.metrics.jobs.labels("duplicate")._value.get() == 1


def test_poison_jobs_are_dead_lettered_and_the_rest_delivered(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    good = [job(edge.url(f"/hook/good-{n}", "json")) for n in range(3)]
    fields = good[0].to_fields()
    redis_client.xadd(names.stream, good[0].to_fields())
    redis_client.xadd(names.stream, {"hello": "world"})
    redis_client.xadd(names.stream, {**fields, "job_id": "x:1", "severity": "apocalyptic"})
    redis_client.xadd(names.stream, {**fields, "job_id": "x:2", "channels": "{not json"})
    redis_client.xadd(names.stream, {**fields, "job_id": "x:3", "channels": "[1, 2]"})
    publish(redis_client, names.stream, *good[1:])
    notifier = notifier_for()
    settle(notifier)

    assert all(len(edge.to(f"/hook/good-{n}")) == 1 for n in range(3))
    assert pending(redis_client, names) == 0
    letters = [f for _, f in redis_client.xrange(names.deadletter)]
    assert [letter["reason"] for letter in letters] == ["notify_failed"] * 4
    details = [letter["detail"] for letter in letters]
    assert details[0] == "notification job without field 'job_id'"
    assert "apocalyptic" in details[1] and letters[1]["key"] == "x:1"
    assert json.loads(base64.b64decode(letters[2]["payload_b64"]))["channels"] == "{not json"
    assert "list of strings" in details[3]
    assert notifier.metrics.jobs.labels("poison")._value.get() == 4


def test_a_job_whose_planning_keeps_failing_is_dead_lettered(
    database_url: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite stores any integer; PostgreSQL refuses one beyond 32 bits")
    overflow = job(edge.url("/hook/never", "json"), recipient_id=2**40)
    publish(redis_client, names.stream, overflow, job(edge.url("/hook/fine", "json")))
    notifier = notifier_for(max_failures=3)
    for _ in range(5):
        settle(notifier)

    assert len(edge.to("/hook/fine")) == 1 and edge.to("/hook/never") == []
    [letter] = [f for _, f in redis_client.xrange(names.deadletter)]
    assert letter["key"] == overflow.job_id and letter["attempts"] == "3"
    assert "DataError" in letter["detail"]
    assert pending(redis_client, names) == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 1
