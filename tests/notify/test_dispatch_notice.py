"""End to end: an officer's dispatch (派单) reaches the assignee's phone — the rules engine
queues the job, the notifier sends the SMS to the local vendor, saying the dispatch and the
place in the template's variables — and the delivery log says so for the alert page; an
assignee nobody can reach is told nothing, and the log says that too."""

from collections.abc import Callable, Iterator

import pytest
import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.alerts import Alert
from records.lifecycle import change_status
from records.notice_state import NoticeState, NoticeStatus, notice_statuses
from records.notifications import DeliveryReceipt
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


class Dispatcher:
    """The example village, reached by nobody outside this machine, and its rules engine on
    the test's clock (NOON), publishing to the notifier's stream."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        database_url: str,
        client: redis.Redis,
        names: Names,
        clock: Clock,
    ) -> None:
        self.sessions, self.client = sessions, client
        clock.now = NOON
        self.now = clock.now
        import_village(sessions)
        with sessions.begin() as session:
            session.execute(update(Staff).values(channels=[]))
            session.execute(update(Guardian).values(channels=[]))
        self.names = RedisNames(
            prefix=f"{names.prefix}:rules",
            events=f"{names.prefix}:events",
            deadletter=names.deadletter,
            streams=OutputStreams(alerts=f"{names.prefix}:alerts", notifications=names.stream),
        )
        self.rules = RulesConsumer(
            make_settings(self.names, database_url),
            load_rules(DEFAULT_RULES),
            sessions,
            client,
            clock=lambda: clock.now.timestamp(),
        )
        self.rules.ensure_group()

    def __call__(self, name: str, channels: list[str], phone: str | None = None) -> tuple[int, int]:
        """Raise 王秀英's fall alert and dispatch it to the staff member `name`, reached by
        `channels` (and `phone` if given), until the rules engine has queued the notice:
        (alert id, staff id)."""
        assignee = staff_id(self.sessions, name)
        self.client.xadd(self.names.events, event(EventType.FALL, camera="cam-home-wang"))
        drain(self.rules)
        with self.sessions.begin() as session:
            alert_id = session.scalars(select(Alert.id)).one()
            contact = {"channels": channels} | ({} if phone is None else {"phone": phone})
            session.execute(update(Staff).where(Staff.id == assignee).values(**contact))
        for version, (to, named) in enumerate(
            [(AlertStatus.ACKNOWLEDGED, None), (AlertStatus.DISPATCHED, assignee)], start=1
        ):
            change_status(
                self.sessions,
                self.client,
                alert_id,
                to,
                actor="灯塔街道值班室",
                expected_version=version,
                assignee_id=named,
                streams=self.names.streams,
                rules_prefix=self.names.prefix,
                now=self.now,
            )
        drain(self.rules)
        return alert_id, assignee

    def told(self, alert_id: int, assignee: int) -> NoticeStatus:
        """Where the notice of the alert's dispatch to `assignee` stands."""
        job = dispatch_job(self.sessions, alert_id, assignee)
        with self.sessions() as session:
            return notice_statuses(session, [job])[job]


@pytest.fixture
def dispatch(
    sessions: sessionmaker[Session],
    database_url: str,
    redis_client: redis.Redis,
    names: Names,
    clock: Clock,
) -> Iterator[Dispatcher]:
    found = Dispatcher(sessions, database_url, redis_client, names, clock)
    yield found
    redis_client.delete(
        found.names.events, found.names.streams.alerts, *redis_client.keys(f"{names.prefix}*")
    )


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_dispatch_reaches_the_assignees_phone_by_sms_once_saying_what_and_where(
    provider: str,
    dispatch: Dispatcher,
    notifier_for: Callable[..., Notifier],
    vendors: Vendors,
    clock: Clock,
) -> None:
    notifier = notifier_for(sections=worded(vendors, provider))
    alert_id, yang = dispatch("杨秀兰", ["sms"])
    settle(notifier)
    drain(dispatch.rules)  # published again or not: the dispatcher sends each job once
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
    status = dispatch.told(alert_id, yang)
    assert (status.state, status.channels) == (NoticeState.SENT, ("sms",))
    assert status.receipts == {}

    vendors.receipt(next(iter(vendors.sent)), "delivered")
    clock.advance(30)
    settle(notifier)
    assert dispatch.told(alert_id, yang).receipts == {"sms": DeliveryReceipt.DELIVERED}


@pytest.mark.parametrize(
    ("channels", "error"),
    [
        ([], "no channel to reach them"),
        (["sms", "webpush"], "no push subscription for staff"),
        (["webpush", "sms"], "has no mainland mobile number (phone '')"),
    ],
)
def test_an_assignee_nobody_can_reach_is_failed_not_left_queued(
    channels: list[str],
    error: str,
    dispatch: Dispatcher,
    notifier_for: Callable[..., Notifier],
    vendors: Vendors,
) -> None:
    notifier = notifier_for(sections=worded(vendors, "aliyun"))
    alert_id, yang = dispatch("杨秀兰", channels, phone="")
    assert dispatch.told(alert_id, yang).state is NoticeState.QUEUED
    settle(notifier)
    status = dispatch.told(alert_id, yang)
    assert (status.state, status.channels, status.recorded) == (NoticeState.FAILED, (), True)
    assert error in status.error
    assert vendors.of("SendSms") == []
