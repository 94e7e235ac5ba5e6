"""End to end: an officer's dispatch (派单) reaches the assignee's phone — the rules engine
queues the job, the notifier sends the SMS to the local vendor, saying the dispatch and the
place in the template's variables — and the delivery log says so for the alert page; an
assignee nobody can reach is told nothing, and the log and the alert page say why in words."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alert_api.app import create_app
from alert_api.context import AppContext
from alert_api.i18n import translator
from alert_api.settings import ApiSettings
from notify.worker import Notifier
from records.alerts import Alert
from records.channel_order import hide_urls
from records.lifecycle import change_status
from records.notice_state import NoticeState, NoticeStatus, notice_statuses
from records.notifications import DeliveryError, DeliveryReceipt
from records.outbox import OutputStreams
from records.people import Guardian, Staff
from records.types import AlertStatus
from rules.consumer import RulesConsumer
from rules.definitions import load_rules
from shouwang.contracts import EventType
from tests.api.builders import cookie_session, village_users
from tests.helpers.dispatches import dispatch_job, staff_id
from tests.notify.builders import Clock, browser
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge
from tests.notify.test_delivery import subscribe
from tests.notify.test_robots import robots
from tests.notify.test_sms_voice import sms_values, worded
from tests.notify.vendors import DINGTALK, Vendors
from tests.records.redis_fixtures import REDIS_URL, RedisNames
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
        self.sessions, self.client, self.database_url = sessions, client, database_url
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

    @cached_property
    def officer(self) -> int:
        """The town's duty officer's user (made on first use)."""
        return village_users(self.sessions).town_officer

    def page(self, alert_id: int, language: str = "zh") -> str:
        """The alert page as the town's duty officer reads it, in `language`."""
        settings = ApiSettings.load(
            None, database={"url": self.database_url}, redis={"url": REDIS_URL}
        )
        context = AppContext.build(settings)
        try:
            token, _ = cookie_session(context, self.officer)
            with TestClient(create_app(context=context)) as client:
                client.cookies.update({"shouwang_session": token, "shouwang_lang": language})
                response = client.get(f"/alerts/{alert_id}")
        finally:
            context.close()
        assert response.status_code == 200, response.text
        return response.text

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


@dataclass(frozen=True)
class Failing:
    """A way a dispatch notice fails: the assignee's channels and phone, the SMS vendor (None:
    not set up) with changes to its settings and the faults it answers with, the push
    service's answer to their phone (None: no subscription); and what the page says."""

    channels: list[str]
    code: DeliveryError
    words: str
    """What the Chinese page says after the name."""
    phone: str = "13800000001"
    provider: str | None = "aliyun"
    sms: dict[str, Any] = field(default_factory=dict)
    faults: tuple[str, ...] = ()
    push: int | None = None


FAILING = {
    "no channel": Failing([], DeliveryError.NO_CHANNEL, "名单中没有可用的通知渠道"),
    "entry not a channel": Failing(
        ["[2d] sms"], DeliveryError.INVALID_CHANNEL, "通知渠道填写有误：请在名单中改正"
    ),
    "no such apprise service": Failing(
        ["nosuchservice://x"], DeliveryError.INVALID_CHANNEL, "通知渠道填写有误"
    ),
    "no push subscription": Failing(
        ["webpush"], DeliveryError.NO_SUBSCRIPTION, "未开启手机推送：请其在手机页开启提醒"
    ),
    "push subscription expired": Failing(
        ["webpush"], DeliveryError.SUBSCRIPTION_GONE, "手机推送已失效", push=410
    ),
    "push refused": Failing(["webpush"], DeliveryError.PUSH_REFUSED, "推送服务拒收", push=403),
    "no mobile number": Failing(
        ["sms"], DeliveryError.NO_MOBILE, "无大陆手机号：请在名单中补全", phone=""
    ),
    "sms not set up": Failing(
        ["sms"], DeliveryError.NOT_SET_UP, "短信或语音电话未配置", provider=None
    ),
    **{
        f"{case} ({provider})": Failing(
            ["sms"], code, words, provider=provider, phone=phone, faults=faults, sms=sms
        )
        for provider in ("aliyun", "tencent")
        for case, code, words, phone, faults, sms in [
            ("invalid number", DeliveryError.INVALID_NUMBER, "号码无效", "12000000000", (), {}),
            (
                "no balance",
                DeliveryError.NO_BALANCE,
                "短信或语音余额不足",
                "13800000001",
                ("no_balance",),
                {},
            ),
            (
                "daily limit",
                DeliveryError.DAILY_LIMIT,
                "今日发送已达上限",
                "13800000001",
                ("daily_limit",),
                {},
            ),
            (
                "signature not approved",
                DeliveryError.TEMPLATE_REJECTED,
                "模板或签名未通过审核",
                "13800000001",
                (),
                {"sign_name": "别家签名"},
            ),
            (
                "wrong keys",
                DeliveryError.ACCOUNT,
                "短信或语音账号配置有误",
                "13800000001",
                (),
                {"access_key_secret": "not-the-secret"},
            ),
            (
                "throttled until given up",
                DeliveryError.THROTTLED,
                "发送过于频繁，多次重试未成功",
                "13800000001",
                ("throttled",) * 4,
                {},
            ),
        ]
    },
    "vendor down until given up": Failing(
        ["sms"], DeliveryError.UNAVAILABLE, "服务暂时不可用", faults=("system_error",) * 4
    ),
    "robot refused": Failing(
        [f"dingtalk://SECwrong@{DINGTALK[0]}/"], DeliveryError.ROBOT_REFUSED, "群机器人拒收"
    ),
}


@pytest.mark.parametrize("failing", FAILING.values(), ids=FAILING.keys())
def test_a_notice_that_cannot_reach_the_assignee_says_why_in_words(
    failing: Failing,
    dispatch: Dispatcher,
    notifier_for: Callable[..., Notifier],
    vendors: Vendors,
    edge: HttpEdge,
    sessions: sessionmaker[Session],
    clock: Clock,
) -> None:
    sections = robots(vendors)
    if failing.provider:
        sections |= worded(vendors, failing.provider)
        sections["notify_sms"] |= failing.sms
    notifier = notifier_for(sections=sections)
    vendors.script("SendSms", *failing.faults)
    alert_id, yang = dispatch("杨秀兰", failing.channels, phone=failing.phone)
    if failing.push:
        subscribe(sessions, ("staff", yang), browser(edge.url("/push/yang")))
        edge.script("/push/yang", failing.push)
    for _ in range(5):  # retried after each back-off, until given up
        settle(notifier)
        clock.advance(120)

    status = dispatch.told(alert_id, yang)
    assert (status.state, status.error_code) == (NoticeState.FAILED, failing.code), status.error
    page = dispatch.page(alert_id)
    assert f"派单通知未送达 杨秀兰：{failing.words}" in page
    assert f"<small>{escape(hide_urls(status.error))}</small>" in page  # the detail kept
    assert "SECwrong" not in page
    english = translator("en")(f"reason.{failing.code.value}")
    assert f"Dispatch notice failed for 杨秀兰：{english}" in dispatch.page(alert_id, "en")
