"""Web Push endpoints: the VAPID key, storing and removing the user's subscriptions, quiet
hours."""

import base64

from fastapi.testclient import TestClient
from sqlalchemy import select

from alert_api.context import AppContext
from alert_api.i18n import LANG_COOKIE
from records.notifications import PushSubscription, RecipientType
from records.people import Guardian
from tests.api.builders import Users, bearer


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription(endpoint: str) -> dict[str, object]:
    return {
        "endpoint": endpoint,
        "expirationTime": None,
        "keys": {"p256dh": b64(b"\x04" + b"\x01" * 64), "auth": b64(b"\x02" * 16)},
    }


def test_a_guardian_subscribes_and_unsubscribes(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = {**bearer(context, village.wang_li), "User-Agent": "phone"}
    key = client.get("/api/push/key", headers=headers).json()["public_key"]
    assert len(base64.urlsafe_b64decode(key + "==")) == 65
    endpoint = "https://push.example.org/send/abc"
    saved = client.post("/api/push/subscriptions", json=subscription(endpoint), headers=headers)
    assert saved.status_code == 204, saved.text
    with context.reads() as session:
        row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
        guardian = session.scalar(select(Guardian.id).where(Guardian.phone == "13900000001"))
        assert row is not None and row.recipient_type is RecipientType.GUARDIAN
        assert row.recipient_id == guardian and row.user_agent == "phone"
    other = bearer(context, village.li_hong)
    foreign = client.post(
        "/api/push/subscriptions/remove", json={"endpoint": endpoint}, headers=other
    )
    assert foreign.status_code == 404  # not theirs
    removed = client.post(
        "/api/push/subscriptions/remove", json={"endpoint": endpoint}, headers=headers
    )
    assert removed.status_code == 204


def test_bad_subscriptions_are_refused(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.grid1_worker)
    bad = subscription("https://push.example.org/x")
    bad["keys"] = {"p256dh": "short", "auth": "short"}
    assert client.post("/api/push/subscriptions", json=bad, headers=headers).status_code == 422
    ftp = subscription("ftp://push.example.org/x")
    assert client.post("/api/push/subscriptions", json=ftp, headers=headers).status_code == 422
    admin = bearer(context, village.admin)  # no staff or guardian record to notify
    ok = subscription("https://push.example.org/y")
    assert client.post("/api/push/subscriptions", json=ok, headers=admin).status_code == 422


def test_quiet_hours(client: TestClient, context: AppContext, village: Users) -> None:
    headers = bearer(context, village.li_hong)
    assert client.get("/api/push/quiet-hours", headers=headers).json() == {
        "start": None,
        "end": None,
    }
    body = {"start": "22:00", "end": "07:00"}
    assert client.put("/api/push/quiet-hours", json=body, headers=headers).status_code == 200
    assert client.get("/api/push/quiet-hours", headers=headers).json() == {
        "start": "22:00:00",
        "end": "07:00:00",
    }
    same = {"start": "22:00", "end": "22:00"}
    assert client.put("/api/push/quiet-hours", json=same, headers=headers).status_code == 422
    assert client.delete("/api/push/quiet-hours", headers=headers).status_code == 204
    assert client.get("/api/push/quiet-hours", headers=headers).json()["start"] is None


def test_channel_order(client: TestClient, context: AppContext, village: Users) -> None:
    headers = bearer(context, village.wang_li)
    before = client.get("/api/push/channels", headers=headers)
    assert before.status_code == 200, before.text
    order = {"channels": ["webpush", " [60s] sms ", "[2m critical] voice", ""]}
    saved = client.put("/api/push/channels", json=order, headers=headers)
    assert saved.json() == {"channels": ["webpush", "[60s] sms", "[2m critical] voice"]}
    with context.reads() as session:
        guardian = session.scalar(select(Guardian).where(Guardian.phone == "13900000001"))
        assert guardian is not None and guardian.channels == saved.json()["channels"]
    wrong = {"channels": ["[soon] sms"]}
    refused = client.put("/api/push/channels", json=wrong, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        "'[soon] sms' 中的 'soon' 既不是等待时间（60s、2m）"
        "也不是级别（critical、high、medium、low）"
    )
    client.cookies.set(LANG_COOKIE, "en")
    refused = client.put("/api/push/channels", json=wrong, headers=headers)
    assert refused.status_code == 422 and "neither a wait" in refused.json()["detail"]
    staff = bearer(context, village.grid1_worker)
    robot = {"channels": ["dingtalk://SEC1@token/", "[1m] voice"]}
    assert client.put("/api/push/channels", json=robot, headers=staff).status_code == 200
    assert client.get("/api/push/channels", headers=staff).json() == robot
    admin = bearer(context, village.admin)
    assert client.get("/api/push/channels", headers=admin).status_code == 422
