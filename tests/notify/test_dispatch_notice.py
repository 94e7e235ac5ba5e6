"""End to end: an officer's dispatch (派单) reaches the assignee's phone — the rules engine
queues the job, the notifier sends the SMS to the local vendor, saying the dispatch and the
place in the template's variables — and the delivery log says so for the alert page."""

from collections.abc import Callable

import pytest
import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.alerts import Alert
from records.lifecycle import change_status
from records.notice_state import NoticeState, notice_statuses
from records.outbox import OutputStreams
from records.people import Guardian, Staff
from records.types import AlertStatus
from rules.consumer import RulesConsumer
from rules.definitions import load_rules
from shouwang.contracts import EventType
from tests.helpers.dispatches import dispatch_job, staff_id
from tests.notify.builders import Clock
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.test_sms_voice import sms_values, worded
from tests.notify.vendors import Vendors
from tests.records.redis_fixtures import RedisNames
from tests.records.village import import_village
from tests.rules.builders import NOON, event
from tests.rules.conftest import DEFAULT_RULES, drain, make_settings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_dispatch_reaches_the_assignees_phone_by_sms_once_saying_what_and_where(
    provider: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    database_url: str,
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    clock.now = NOON
    import_village(sessions)
    with sessions.begin() as session:  # nobody is reached outside this machine
        session.execute(update(Staff).values(channels=[]))
        session.execute(update(Guardian).values(channels=[]))
    yang = staff_id(sessions, "杨秀兰")
    rules_names = RedisNames(
        prefix=f"{names.prefix}:rules",
        events=f"{names.prefix}:events",
        deadletter=names.deadletter,
        streams=OutputStreams(alerts=f"{names.prefix}:alerts", notifications=names.stream),
    )
    rules = RulesConsumer(
        make_settings(rules_names, database_url),
        load_rules(DEFAULT_RULES),
        sessions,
        redis_client,
        clock=lambda: clock.now.timestamp(),
    )
    rules.ensure_group()
    notifier = notifier_for(sections=worded(vendors, provider))
    try:
        redis_client.xadd(rules_names.events, event(EventType.FALL, camera="cam-home-wang"))
        drain(rules)
        with sessions.begin() as session:
            alert_id = session.scalars(select(Alert.id)).one()
            session.execute(update(Staff).where(Staff.id == yang).values(channels=["sms"]))
        for version, (to, assignee) in enumerate(
            [(AlertStatus.ACKNOWLEDGED, None), (AlertStatus.DISPATCHED, yang)], start=1
        ):
            change_status(
                sessions,
                redis_client,
                alert_id,
                to,
                actor="灯塔街道值班室",
                expected_version=version,
                assignee_id=assignee,
                streams=rules_names.streams,
                rules_prefix=rules_names.prefix,
                now=clock.now,
            )
        drain(rules)
        settle(notifier)
        drain(rules)  # published again or not: the dispatcher sends each job once
        settle(notifier)

        (sms,) = vendors.of("SendSms")
        assert sms.code in ("OK", "Ok")
        assert sms_values(vendors, provider) == [
            {
                "lead": "派单：请于12:30前到场处置",
                "severity": "危急",
                "title": "老人跌倒：王秀英",
                "place": "马岩村一组12号",
                "time": "12:00",
            }
        ]
        job = dispatch_job(sessions, alert_id, yang)
        with sessions() as session:
            status = notice_statuses(session, [job])[job]
        assert (status.state, status.channels) == (NoticeState.SENT, ("sms",))
    finally:
        redis_client.delete(
            rules_names.events, rules_names.streams.alerts, *redis_client.keys(f"{names.prefix}*")
        )
