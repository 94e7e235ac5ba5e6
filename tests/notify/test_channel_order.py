"""A recipient's channel order through the real notifier, Redis and database: push first, SMS
after 60 s unless someone answered, a voice call after 120 s for critical alerts; a step
whose predecessors all failed goes out at once; quiet hours hold waiting steps of
non-critical alerts."""

from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.alerts import Alert
from records.feed import ARRIVAL_STAGE, NotificationJob
from records.notifications import Delivery, DeliveryOutcome, set_quiet_hours
from records.types import AlertStatus
from tests.notify.builders import T0, Clock, browser, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge
from tests.notify.test_delivery import deliveries, subscribe
from tests.notify.test_sms_voice import cloud
from tests.notify.vendors import Vendors
from tests.records.test_lifecycle import new_alert

ORDER = ("webpush", "[60s] sms", "[2m critical] voice")


def by_channel(sessions: sessionmaker[Session]) -> dict[str, Delivery]:
    return {d.channel: d for d in deliveries(sessions)}


def sms_by_job(sessions: sessionmaker[Session]) -> dict[str, Delivery]:
    return {d.job_id: d for d in deliveries(sessions) if d.channel == "sms"}


def answer(sessions: sessionmaker[Session], alert_id: int, **columns: Any) -> None:
    """Set the alert's columns as an answer (acknowledgement, family response, arrival)
    made elsewhere would, behind the notifier's back."""
    with sessions.begin() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        for column, value in columns.items():
            setattr(alert, column, value)


def to_staff(*steps: str, alert_id: int, stage: str = "") -> NotificationJob:
    """A job for the staff member with id 7."""
    return job(*steps, alert_id=alert_id, recipient_type="staff", recipient_id=7, stage=stage)


def test_without_a_reply_push_then_sms_after_a_minute_then_a_call(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    vendors: Vendors,
    clock: Clock,
) -> None:
    subscribe(sessions, ("guardian", 1), browser(edge.url("/push/phone")))
    alert_id = new_alert(sessions)
    notifier = notifier_for(sections=cloud(vendors, "aliyun"))
    publish(redis_client, names.stream, job(*ORDER, alert_id=alert_id))
    settle(notifier)

    rows = by_channel(sessions)
    assert rows["webpush"].outcome == DeliveryOutcome.SENT
    assert (rows["sms"].wait_s, rows["sms"].next_attempt_at) == (60, T0 + timedelta(seconds=60))
    assert (rows["voice"].wait_s, rows["voice"].next_attempt_at) == (120, T0 + timedelta(minutes=2))
    assert vendors.sends == []

    clock.advance(59)
    settle(notifier)
    assert vendors.sends == []
    clock.advance(1)
    settle(notifier)
    assert [c.action for c in vendors.sends] == ["SendSms"]
    clock.advance(60)
    settle(notifier)
    assert [c.action for c in vendors.sends] == ["SendSms", "SingleCallByTts"]
    assert {d.outcome for d in deliveries(sessions)} == {DeliveryOutcome.SENT}


def test_an_answer_before_the_wait_withdraws_the_later_steps(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    vendors: Vendors,
    clock: Clock,
) -> None:
    subscribe(sessions, ("guardian", 1), browser(edge.url("/push/phone")))
    alert_id = new_alert(sessions)
    notifier = notifier_for(sections=cloud(vendors, "aliyun"))
    publish(redis_client, names.stream, job(*ORDER, alert_id=alert_id))
    settle(notifier)
    clock.advance(30)
    answer(sessions, alert_id, status=AlertStatus.ACKNOWLEDGED)
    clock.advance(90)
    settle(notifier)

    rows = by_channel(sessions)
    assert rows["webpush"].outcome == DeliveryOutcome.SENT
    for channel in ("sms", "voice"):
        assert rows[channel].outcome == DeliveryOutcome.WITHDRAWN
        assert rows[channel].last_error == "alert acknowledged: answered before this step"
    assert vendors.sends == []
    assert notifier.metrics.withdrawn._value.get() == 2


def test_a_failed_step_falls_back_to_the_next_at_once(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    # no push subscription: the SMS goes at once; the SMS vendor has no balance: the call
    # goes at once after it
    vendors.script("SendSms", "no_balance")
    alert_id = new_alert(sessions)
    notifier = notifier_for(sections=cloud(vendors, "aliyun"))
    publish(redis_client, names.stream, job(*ORDER, alert_id=alert_id))
    settle(notifier)

    rows = by_channel(sessions)
    assert rows["webpush"].outcome == DeliveryOutcome.FAILED
    assert (rows["sms"].outcome, rows["sms"].last_error or "") == (
        DeliveryOutcome.FAILED,
        "isv.AMOUNT_NOT_ENOUGH: 账户余额不足",
    )
    assert (rows["voice"].outcome, rows["voice"].sent_at) == (DeliveryOutcome.SENT, T0)
    assert [c.action for c in vendors.sends] == ["SendSms", "SingleCallByTts"]


def test_a_sent_step_keeps_the_next_waiting_and_severity_picks_the_steps(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    high = new_alert(sessions, severity="high")
    notifier = notifier_for(sections=cloud(vendors, "tencent"))
    publish(redis_client, names.stream, job(*ORDER, alert_id=high, severity="high"))
    settle(notifier)

    rows = by_channel(sessions)
    assert set(rows) == {"webpush", "sms"}  # the call is for critical alerts only
    assert rows["sms"].outcome == DeliveryOutcome.SENT  # no subscription: SMS at once
    [sms] = vendors.of("SendSms")
    assert sms.params["TemplateParamSet"][0] == "警告"  # SEVERITY_WORDS for high

    critical = new_alert(sessions)
    publish(redis_client, names.stream, job("[30s] sms", "[2m] voice", alert_id=critical))
    settle(notifier)
    clock.advance(30)
    settle(notifier)
    assert len(vendors.of("SendSms")) == 2
    assert vendors.of("SendTtsVoice") == []  # the SMS went: the call waits its turn
    clock.advance(90)
    settle(notifier)
    assert len(vendors.of("SendTtsVoice")) == 1


def test_a_family_reply_stops_the_familys_later_steps_not_the_staffs(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    vendors: Vendors,
    clock: Clock,
) -> None:
    subscribe(sessions, ("guardian", 1), browser(edge.url("/push/daughter")))
    subscribe(sessions, ("staff", 7), browser(edge.url("/push/grid-worker")))
    alert_id = new_alert(sessions)
    notifier = notifier_for(sections=cloud(vendors, "aliyun"))
    publish(
        redis_client,
        names.stream,
        job("webpush", "[60s] sms", alert_id=alert_id),
        to_staff("webpush", "[60s] sms", alert_id=alert_id),
    )
    settle(notifier)
    answer(sessions, alert_id, family_response_at=clock.now, family_response_by="王小红")
    clock.advance(60)
    settle(notifier)

    sms = sms_by_job(sessions)
    family, staff = sms[f"{alert_id}:0:guardian:1"], sms[f"{alert_id}:0:staff:7"]
    assert family.outcome == DeliveryOutcome.WITHDRAWN
    assert family.last_error == "王小红 (family) answered before this step"
    assert staff.outcome == DeliveryOutcome.SENT  # the official ladder runs on
    assert len(vendors.of("SendSms")) == 1


def test_notices_after_acknowledgement_go_on_and_nobody_on_site_stops_once_someone_is(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    vendors: Vendors,
    clock: Clock,
) -> None:
    subscribe(sessions, ("staff", 7), browser(edge.url("/push/duty-office")))
    acknowledged, reached = new_alert(sessions), new_alert(sessions)
    notifier = notifier_for(sections=cloud(vendors, "aliyun"))
    publish(
        redis_client,
        names.stream,
        *(
            to_staff("webpush", "[60s] sms", alert_id=a, stage=ARRIVAL_STAGE)
            for a in (acknowledged, reached)
        ),
        to_staff("webpush", "[60s] sms", alert_id=acknowledged, stage="urge12"),
    )
    settle(notifier)
    answer(sessions, acknowledged, status=AlertStatus.ACKNOWLEDGED)
    answer(sessions, reached, arrived_at=clock.now, arrived_by="杨秀兰")
    clock.advance(60)
    settle(notifier)

    sms = sms_by_job(sessions)
    assert sms[f"{acknowledged}:arrival:staff:7"].outcome == DeliveryOutcome.SENT
    assert sms[f"{acknowledged}:urge12:staff:7"].outcome == DeliveryOutcome.SENT  # 督办
    withdrawn = sms[f"{reached}:arrival:staff:7"]
    assert withdrawn.outcome == DeliveryOutcome.WITHDRAWN
    assert withdrawn.last_error == "杨秀兰 on site before this step"
    assert len(vendors.of("SendSms")) == 2


def test_quiet_hours_hold_a_waiting_sms_of_a_high_alert_but_not_of_a_critical_one(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    with sessions.begin() as session:
        set_quiet_hours(session, "guardian", 1, time(9, 0), time(12, 0))  # T0 is 10:00 local
    high, critical = new_alert(sessions, severity="high"), new_alert(sessions)
    notifier = notifier_for(sections=cloud(vendors, "aliyun"))
    publish(
        redis_client,
        names.stream,
        job("[60s] sms", alert_id=high, severity="high"),
        job("[60s] sms", alert_id=critical),
    )
    settle(notifier)
    clock.advance(60)
    settle(notifier)

    rows = {d.job_id.split(":")[0]: d for d in deliveries(sessions)}
    assert rows[str(critical)].outcome == DeliveryOutcome.SENT
    held = rows[str(high)]
    assert (held.outcome, held.next_attempt_at) == (DeliveryOutcome.HELD, T0 + timedelta(hours=2))
    assert len(vendors.of("SendSms")) == 1
