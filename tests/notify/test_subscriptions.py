"""Push subscriptions: what the API stores, and what the dispatcher removes (404/410)."""

import threading
from collections.abc import Callable

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.db import make_sessionmaker
from records.notifications import (
    DeliveryOutcome,
    InvalidSubscription,
    PushSubscription,
    ensure_vapid_keys,
    push_subscriptions,
    remove_push_subscription,
    save_push_subscription,
    vapid_public_key,
)
from tests.notify.builders import Clock, b64url, browser, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge
from tests.notify.test_delivery import deliveries, subscribe


@pytest.mark.parametrize("status", [410, 404])
def test_gone_subscription_is_removed_and_not_used_again(
    status: int,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    old, new = browser(edge.url("/push/old-phone")), browser(edge.url("/push/new-phone"))
    subscribe(sessions, ("guardian", 5), old, new)
    edge.script("/push/old-phone", status)
    notifier = notifier_for()
    publish(redis_client, names.stream, job("webpush", recipient_id=5))
    settle(notifier)

    outcomes = {d.target: d.outcome for d in deliveries(sessions)}
    assert outcomes == {old.endpoint: DeliveryOutcome.GONE, new.endpoint: DeliveryOutcome.SENT}
    with sessions() as session:
        assert [s.endpoint for s in push_subscriptions(session, "guardian", 5)] == [new.endpoint]
    assert notifier.metrics.dropped_subscriptions._value.get() == 1

    publish(redis_client, names.stream, job("webpush", recipient_id=5))
    settle(notifier)
    assert len(edge.to("/push/old-phone")) == 1
    assert len(edge.to("/push/new-phone")) == 2


def test_subscription_removed_before_its_retry_is_settled_as_gone(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
) -> None:
    page = browser(edge.url("/push/phone"))
    subscribe(sessions, ("guardian", 1), page)
    edge.script("/push/phone", 500)
    notifier = notifier_for()
    publish(redis_client, names.stream, job("webpush"))
    settle(notifier)
    with sessions.begin() as session:
        assert remove_push_subscription(session, page.endpoint)  # the page unsubscribed
    clock.advance(5)
    settle(notifier)
    [row] = deliveries(sessions)
    assert row.outcome is DeliveryOutcome.GONE
    assert len(edge.to("/push/phone")) == 1


def test_saving_a_subscription_checks_it_and_updates_by_endpoint(
    sessions: sessionmaker[Session],
) -> None:
    page = browser("https://fcm.googleapis.com/fcm/send/abc123")
    with sessions.begin() as session:
        first = save_push_subscription(session, "guardian", 1, page.json(), "Chrome on Android")
        again = save_push_subscription(session, "staff", 9, page.subscription(), "Chrome")
        assert first.id == again.id
    with sessions() as session:
        [row] = session.scalars(select(PushSubscription))
        assert (row.recipient_type, row.recipient_id, row.user_agent) == ("staff", 9, "Chrome")
        assert row.info()["keys"] == page.subscription()["keys"]

    keys = page.subscription()["keys"]
    assert isinstance(keys, dict)
    bad = {
        "not json": "{",
        "not an object": "[]",
        "no endpoint": {"keys": keys},
        "ftp endpoint": {"endpoint": "ftp://x", "keys": keys},
        "no keys": {"endpoint": page.endpoint},
        "short auth": {"endpoint": page.endpoint, "keys": {**keys, "auth": b64url(b"x" * 8)}},
        "bad p256dh": {"endpoint": page.endpoint, "keys": {**keys, "p256dh": "!!"}},
    }
    for case, subscription in bad.items():
        with sessions() as session, pytest.raises(InvalidSubscription):
            save_push_subscription(session, "guardian", 1, subscription)
            pytest.fail(case)
    with sessions() as session, pytest.raises(ValueError):
        save_push_subscription(session, "mayor", 1, page.json())
    with sessions.begin() as session:
        assert remove_push_subscription(session, page.endpoint)
        assert not remove_push_subscription(session, page.endpoint)


def test_every_process_gets_the_same_vapid_key_even_when_racing(engine: Engine) -> None:
    sessions = make_sessionmaker(engine)
    barrier = threading.Barrier(6)
    keys: list[str] = []

    def first_use() -> None:
        barrier.wait()
        keys.append(ensure_vapid_keys(make_sessionmaker(engine)).public_key)

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys) == 6
    with sessions() as session:
        assert vapid_public_key(session) == keys[0]
    assert len(keys[0]) == 87  # 65-byte uncompressed P-256 point, base64url without padding
