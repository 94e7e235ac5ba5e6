"""派单 through the API: the dispatch names a candidate as its assignee (who the rules engine
then tells), a re-dispatch names someone else, and the alert page shows whether the assignee
was told, from the dispatcher's delivery log."""

import redis
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.alerts import AlertTransition
from records.base import utcnow
from records.notifications import Delivery, DeliveryOutcome, Notification, RecipientType
from records.outbox import OutputStreams
from records.people import Staff
from records.types import Severity
from tests.api.builders import Users, bearer, cookie_session, raise_alert


def staff_id(sessions: sessionmaker[Session], name: str) -> int:
    with sessions() as session:
        found = session.scalar(select(Staff.id).where(Staff.name == name))
    assert found is not None
    return found


def delivered(
    sessions: sessionmaker[Session], job_id: str, alert_id: int, staff: int, *rows: Delivery
) -> None:
    """What the dispatcher records for a job it planned and sent."""
    now = utcnow()
    with sessions.begin() as session:
        session.add(
            Notification(
                job_id=job_id,
                alert_id=alert_id,
                step=0,
                recipient_type=RecipientType.STAFF,
                recipient_id=staff,
                severity=Severity.CRITICAL,
                title="老人跌倒：王秀英",
                body="【危急】派单：请于12:30前到场处置｜老人跌倒：王秀英",
                created_at=now,
                deliveries=list(rows),
            )
        )


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
    }
    again = client.post(url, json=body, headers=officer)  # a retry of the same request
    assert again.status_code == 409
    same = client.post(url, json=body | {"version": 3}, headers=officer)
    assert same.status_code == 422 and same.json()["code"] == "invalid_transition"

    with sessions() as session:
        row_id = session.scalars(
            select(AlertTransition.id).where(AlertTransition.assignee_id == yang)
        ).one()
    delivered(
        sessions,
        f"{alert_id}:dispatch{row_id}:staff:{yang}",
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
    with sessions() as session:
        police_row = session.scalars(
            select(AlertTransition.id).where(AlertTransition.assignee_id == police)
        ).one()
    delivered(
        sessions,
        f"{alert_id}:dispatch{police_row}:staff:{police}",
        alert_id,
        police,
        Delivery(
            channel="sms",
            target="0856-5000110",
            target_key="b",
            outcome=DeliveryOutcome.FAILED,
            last_error="staff has no mainland mobile number",
        ),
    )
    token, _ = cookie_session(context, village.town_officer)
    client.cookies.set("shouwang_session", token)
    page = client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    assert "已通知 杨秀兰（短信）" in page.text  # the channel in words
    assert "派单通知未送达 灯塔派出所：staff has no mainland mobile number" in page.text
    guardian = client.get(f"/api/alerts/{alert_id}", headers=bearer(context, village.wang_li))
    assert all(t["assignee"] is None for t in guardian.json()["transitions"])
