"""派单 through the API: the dispatch names a candidate as its assignee (who the rules engine
then tells), a re-dispatch names someone else, and the alert page shows whether the assignee
was told, from the dispatcher's delivery log, and why if they never will be."""

import redis
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.notifications import Delivery, DeliveryError, DeliveryOutcome, DeliveryReceipt
from records.outbox import OutputStreams
from records.people import Staff
from tests.api.builders import Users, bearer, cookie_session, raise_alert
from tests.helpers.dispatches import delivered, staff_id


def dispatched_to_yang(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> tuple[int, int, dict[str, str]]:
    """A new alert, acknowledged and dispatched to 杨秀兰 by the town's duty officer: the
    alert, her staff id and the officer's headers."""
    alert_id = raise_alert(sessions, redis_client, streams)
    officer = bearer(context, village.town_officer)
    yang = staff_id(sessions, "杨秀兰")
    url = f"/api/alerts/{alert_id}/transitions"
    assert client.post(url, json={"to": "acknowledged", "version": 1}, headers=officer).is_success
    body = {"to": "dispatched", "version": 2, "assignee_id": yang}
    assert client.post(url, json=body, headers=officer).is_success
    return alert_id, yang, officer


def test_a_dispatch_names_its_assignee_and_shows_whether_they_were_told(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    officer = bearer(context, village.town_officer)
    yang, police, other = (staff_id(sessions, n) for n in ("杨秀兰", "灯塔派出所", "吴建国"))
    url = f"/api/alerts/{alert_id}/transitions"
    assert client.post(url, json={"to": "acknowledged", "version": 1}, headers=officer).is_success

    wrong = client.post(
        url, json={"to": "dispatched", "version": 2, "assignee_id": other}, headers=officer
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_assignee"
    not_a_dispatch = client.post(
        url,
        json={"to": "resolved", "version": 2, "note": "x", "assignee_id": yang},
        headers=officer,
    )
    assert not_a_dispatch.status_code == 422
    assert not_a_dispatch.json()["code"] == "invalid_transition"

    body = {"to": "dispatched", "version": 2, "note": "派给 杨秀兰", "assignee_id": yang}
    dispatched = client.post(url, json=body, headers=officer)
    assert dispatched.status_code == 200, dispatched.text
    (row,) = [t for t in dispatched.json()["transitions"] if t["assignee"]]
    assert row["assignee"] == {
        "id": yang,
        "name": "杨秀兰",
        "notice": "queued",
        "channels": [],
        "error": "",
        "error_code": None,
        "untold": None,
        "receipts": {},
    }
    again = client.post(url, json=body, headers=officer)  # a retry of the same request
    assert again.status_code == 409
    same = client.post(url, json=body | {"version": 3}, headers=officer)
    assert same.status_code == 422 and same.json()["code"] == "invalid_transition"

    delivered(
        sessions,
        alert_id,
        yang,
        Delivery(channel="sms", target="13800000001", target_key="a", outcome=DeliveryOutcome.SENT),
    )
    redispatched = client.post(
        url, json={"to": "dispatched", "version": 3, "assignee_id": police}, headers=officer
    )
    assert redispatched.status_code == 200, redispatched.text
    told = [t["assignee"] for t in redispatched.json()["transitions"] if t["assignee"]]
    assert [(a["name"], a["notice"], a["channels"]) for a in told] == [
        ("杨秀兰", "sent", ["sms"]),
        ("灯塔派出所", "queued", []),
    ]
    delivered(
        sessions,
        alert_id,
        police,
        Delivery(
            channel="sms",
            target="0856-5000110",
            target_key="b",
            outcome=DeliveryOutcome.FAILED,
            last_error="staff 7 has no mainland mobile number (phone '0856-5000110')",
            error_code=DeliveryError.NO_MOBILE,
        ),
    )
    token, _ = cookie_session(context, village.town_officer)
    client.cookies.set("shouwang_session", token)
    page = client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    assert "已通知 杨秀兰（短信）" in page.text  # the channel in words
    assert (  # why in words, the notifier's detail after it
        "派单通知未送达 灯塔派出所：无大陆手机号：请在名单中补全 <small>staff 7 has no "
        "mainland mobile number (phone &#39;0856-5000110&#39;)</small>"
    ) in page.text
    guardian = client.get(f"/api/alerts/{alert_id}", headers=bearer(context, village.wang_li))
    assert all(t["assignee"] is None for t in guardian.json()["transitions"])


def test_a_dispatch_nobody_will_tell_says_why(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    officer = bearer(context, village.town_officer)
    yang, police, office = (
        staff_id(sessions, n) for n in ("杨秀兰", "灯塔派出所", "碧江区综治中心")
    )
    url = f"/api/alerts/{alert_id}/transitions"
    assert client.post(url, json={"to": "acknowledged", "version": 1}, headers=officer).is_success

    def dispatch(version: int, assignee: int) -> list[tuple[str, str, str | None]]:
        body = {"to": "dispatched", "version": version, "assignee_id": assignee}
        response = client.post(url, json=body, headers=officer)
        assert response.status_code == 200, response.text
        return notices()

    def notices() -> list[tuple[str, str, str | None]]:
        detail = client.get(f"/api/alerts/{alert_id}", headers=officer).json()
        told = [t["assignee"] for t in detail["transitions"] if t["assignee"]]
        return [(a["name"], a["notice"], a["untold"]) for a in told]

    assert dispatch(2, yang) == [("杨秀兰", "queued", None)]
    # Re-dispatched before the rules engine told her: either it told her (her job is on
    # its way) or it will tell only the latest — queued until the dispatcher says.
    assert dispatch(3, police) == [("杨秀兰", "queued", None), ("灯塔派出所", "queued", None)]
    delivered(
        sessions,
        alert_id,
        police,
        Delivery(
            channel="dingtalk",
            target="dingtalk://SECRET@TOKEN/13800000002",
            target_key="a",
            outcome=DeliveryOutcome.SENT,
        ),
        Delivery(
            channel="mailto",
            target="mailto://duty:PASSWORD@example.com",
            target_key="b",
            outcome=DeliveryOutcome.SENT,
        ),
    )
    assert notices() == [("杨秀兰", "untold", "redispatched"), ("灯塔派出所", "sent", None)]

    assert dispatch(4, office)[-1] == ("碧江区综治中心", "queued", None)
    with sessions.begin() as session:  # deactivated before the rules engine told them
        session.execute(update(Staff).where(Staff.id == office).values(active=False))
    assert notices()[-1] == ("碧江区综治中心", "untold", "inactive")

    token, _ = cookie_session(context, village.town_officer)
    client.cookies.set("shouwang_session", token)
    page = client.get(f"/alerts/{alert_id}").text
    assert "未通知 杨秀兰：已改派" in page
    assert "已通知 灯塔派出所（钉钉群、其他渠道）" in page  # the channels in words
    assert "未通知 碧江区综治中心：账号已停用" in page
    assert "TOKEN" not in page and "PASSWORD" not in page
    client.cookies.set("shouwang_lang", "en")
    english = client.get(f"/alerts/{alert_id}").text
    assert "Not told 杨秀兰：re-dispatched" in english
    assert "Told 灯塔派出所（DingTalk group、other channel）" in english
    assert "Not told 碧江区综治中心：account deactivated" in english


def test_a_failed_notice_shows_its_error_without_the_urls_in_it(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id, yang, officer = dispatched_to_yang(
        client, context, village, sessions, redis_client, streams
    )
    delivered(
        sessions,
        alert_id,
        yang,
        Delivery(
            channel="invalid",
            target="[1d] wecombot://KEY-1234",
            target_key="a",
            outcome=DeliveryOutcome.FAILED,
            last_error="'[1d] wecombot://KEY-1234' waits longer than a day",
            error_code=DeliveryError.INVALID_CHANNEL,
        ),
    )
    detail = client.get(f"/api/alerts/{alert_id}", headers=officer).json()
    (told,) = [t["assignee"] for t in detail["transitions"] if t["assignee"]]
    assert (told["notice"], told["error"], told["error_code"]) == (
        "failed",
        "'[1d] wecombot://…' waits longer than a day",
        "invalid_channel",
    )
    token, _ = cookie_session(context, village.town_officer)
    client.cookies.set("shouwang_session", token)
    page = client.get(f"/alerts/{alert_id}").text
    assert "通知渠道填写有误：请在名单中改正 <small>&#39;[1d] wecombot://…&#39;" in page
    assert "KEY-1234" not in page


def test_the_alert_page_says_whether_the_text_reached_the_phone_and_the_call_was_answered(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id, yang, officer = dispatched_to_yang(
        client, context, village, sessions, redis_client, streams
    )
    sent = {"target": "13800000001", "outcome": DeliveryOutcome.SENT}
    delivered(
        sessions,
        alert_id,
        yang,
        Delivery(channel="sms", target_key="a", receipt=DeliveryReceipt.UNDELIVERED, **sent),
        Delivery(channel="voice", target_key="b", receipt=DeliveryReceipt.ANSWERED, **sent),
    )

    alert = client.get(f"/api/alerts/{alert_id}", headers=officer).json()
    [assignee] = [t["assignee"] for t in alert["transitions"] if t["assignee"]]
    assert assignee["receipts"] == {"sms": "undelivered", "voice": "answered"}
    token, _ = cookie_session(context, village.town_officer)
    client.cookies.set("shouwang_session", token)
    page = client.get(f"/alerts/{alert_id}")
    assert "已通知 杨秀兰（短信 未送达、语音电话 已接听）" in page.text
