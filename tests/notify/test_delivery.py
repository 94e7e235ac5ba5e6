"""A job reaches its targets: an encrypted, VAPID-signed Web Push to every subscription of the
recipient, and a webhook through apprise; every delivery is recorded."""

import json
from collections.abc import Callable

import http_ece
import redis
from py_vapid import Vapid02
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.notifications import (
    Delivery,
    DeliveryOutcome,
    Notification,
    PushSubscription,
    save_push_subscription,
    vapid_public_key,
)
from tests.notify.builders import T0, Browser, browser, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge, Received


def subscribe(sessions: sessionmaker[Session], owner: tuple[str, int], *pages: Browser) -> None:
    with sessions.begin() as session:
        for page in pages:
            save_push_subscription(session, owner[0], owner[1], page.json(), "Mozilla/5.0 test")


def deliveries(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def decrypt(page: Browser, request: Received) -> dict[str, object]:
    """Decrypt a Web Push request the way the browser does (RFC 8291, aes128gcm)."""
    plain = http_ece.decrypt(
        request.body, private_key=page.private_key, auth_secret=page.auth, version="aes128gcm"
    )
    return json.loads(plain)


def test_web_push_is_encrypted_and_vapid_signed(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    phone, laptop = browser(edge.url("/push/phone")), browser(edge.url("/push/laptop"))
    subscribe(sessions, ("guardian", 7), phone, laptop)
    notifier = notifier_for()
    publish(redis_client, names.stream, job("webpush", recipient_id=7, alert_id=41))
    settle(notifier)

    with sessions.begin() as session:
        server_key = vapid_public_key(session)
    for page, path in ((phone, "/push/phone"), (laptop, "/push/laptop")):
        [request] = edge.to(path)
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert headers["content-encoding"] == "aes128gcm"
        assert headers["urgency"] == "high" and headers["ttl"] == "86400"
        assert Vapid02.verify(headers["authorization"])  # signed by the key it names
        assert headers["authorization"].endswith(f"k={server_key}")
        message = decrypt(page, request)
        assert message["alert_id"] == 41 and message["job_id"] == "41:0:guardian:7"
        assert message["title"] == "王奶奶家 跌倒" and message["severity"] == "critical"
        assert message["url"] == "/guardian/alerts/41"
    rows = deliveries(sessions)
    assert [(d.channel, d.outcome, d.attempts) for d in rows] == [
        ("webpush", DeliveryOutcome.SENT, 1)
    ] * 2
    assert all(d.sent_at == T0 and d.last_error is None for d in rows)
    with sessions() as session:
        assert all(s.last_success_at == T0 for s in session.scalars(select(PushSubscription)))


def test_apprise_url_gets_the_message_and_severity_sets_push_urgency(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    page = browser(edge.url("/push/phone"))
    subscribe(sessions, ("staff", 3), page)
    hook = edge.url("/hook/duty", scheme="json")
    notifier = notifier_for()
    publish(
        redis_client,
        names.stream,
        job("webpush", hook, recipient_type="staff", recipient_id=3, severity="low"),
    )
    settle(notifier)

    [webhook] = edge.to("/hook/duty")
    assert webhook.json()["title"] == "王奶奶家 跌倒"
    assert "地点：碧江区 灯塔村 3组" in webhook.json()["message"]
    [push] = edge.to("/push/phone")
    headers = {k.lower(): v for k, v in push.headers.items()}
    assert headers["urgency"] == "low" and headers["ttl"] == "3600"
    rows = deliveries(sessions)
    assert {(d.channel, d.target, d.outcome) for d in rows} == {
        ("webpush", page.endpoint, DeliveryOutcome.SENT),
        ("json", hook, DeliveryOutcome.SENT),
    }
    with sessions() as session:
        [record] = session.scalars(select(Notification))
        assert (record.alert_id, record.recipient_type, record.recipient_id) == (
            int(record.job_id.split(":")[0]),
            "staff",
            3,
        )
    assert notifier.metrics.sent.labels("webpush")._value.get() == 1
    assert notifier.metrics.sent.labels("json")._value.get() == 1


def test_channels_without_a_target_are_recorded_as_failed(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    notifier = notifier_for()
    publish(
        redis_client,
        names.stream,
        job("webpush", "not a url", "nosuchservice://token", edge.url("/hook/ok", "json")),
    )
    settle(notifier)
    rows = {d.channel: d for d in deliveries(sessions)}
    assert rows["webpush"].outcome is DeliveryOutcome.FAILED
    assert "no push subscription for guardian 1" in (rows["webpush"].last_error or "")
    assert rows["invalid"].outcome is DeliveryOutcome.FAILED
    assert rows["nosuchservice"].outcome is DeliveryOutcome.FAILED
    assert rows["nosuchservice"].attempts == 1  # tried once, not retried
    assert "apprise does not support" in (rows["nosuchservice"].last_error or "")
    assert rows["json"].outcome is DeliveryOutcome.SENT
    assert len(edge.to("/hook/ok")) == 1


def test_push_endpoints_outside_the_push_services_are_refused(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
) -> None:
    inside = browser(f"http://localhost:{edge.port}/push/internal-admin")  # host not allowed
    subscribe(sessions, ("guardian", 1), inside)
    notifier = notifier_for()
    publish(redis_client, names.stream, job("webpush"))
    settle(notifier)
    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts) == (DeliveryOutcome.FAILED, 1)
    assert "'localhost' is not in notify_webpush.endpoint_hosts" in (row.last_error or "")
    assert edge.received == []
