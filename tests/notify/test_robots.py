"""DingTalk, WeCom and Feishu group robots, sent over HTTP with their signing to the local
robot that checks it as the vendor does: accepted, retried when the robot says it is sent to
too fast, given up on a bad signature or an unknown robot."""

from collections.abc import Callable
from typing import Any

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.notifications import DeliveryOutcome
from tests.notify.builders import Clock, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.test_delivery import deliveries
from tests.notify.vendors import DINGTALK, FEISHU, WECOM_KEY, Vendors

DINGTALK_URL = f"dingtalk://{DINGTALK[1]}@{DINGTALK[0]}/13800000001/"
WECOM_URL = f"wecombot://{WECOM_KEY}/13800000001"
FEISHU_URL = f"feishu://{FEISHU[0]}/{FEISHU[1]}"


def robots(vendors: Vendors) -> dict[str, Any]:
    return {
        "notify_robots": {
            "dingtalk_url": vendors.url("/robot/send"),
            "wecom_url": vendors.url("/cgi-bin/webhook/send"),
            "feishu_url": vendors.url("/open-apis/bot/v2/hook/"),
        }
    }


def test_each_robot_receives_the_alert_signed(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
) -> None:
    notifier = notifier_for(sections=robots(vendors))
    publish(redis_client, names.stream, job(DINGTALK_URL, WECOM_URL, FEISHU_URL))
    settle(notifier)

    rows = deliveries(sessions)
    assert [(r.channel, r.outcome) for r in rows] == [
        ("dingtalk", DeliveryOutcome.SENT),
        ("wecombot", DeliveryOutcome.SENT),
        ("feishu", DeliveryOutcome.SENT),
    ]
    [ding], [wecom], [feishu] = vendors.of("dingtalk"), vendors.of("wecom"), vendors.of("feishu")
    assert ding.params["at"] == {"atMobiles": ["13800000001"], "isAtAll": False}
    assert ding.params["text"]["content"].startswith("王奶奶家 跌倒\n【紧急】")
    assert ding.params["text"]["content"].endswith(" @13800000001")
    assert wecom.params["text"]["content"].startswith("王奶奶家 跌倒")
    assert wecom.params["text"]["mentioned_mobile_list"] == ["13800000001"]
    assert feishu.params["content"]["text"].startswith("王奶奶家 跌倒")
    assert (ding.code, wecom.code, feishu.code) == (0, 0, 0)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (f"dingtalk://SECwrong@{DINGTALK[0]}/", "errcode 310000"),
        (f"dingtalk://{DINGTALK[1]}@unknown-token/", "errcode 300001"),
        ("wecombot://not-the-key", "errcode 93000"),
        (f"feishu://{FEISHU[0]}/wrong-secret", "code 19021"),
        (f"feishu://{FEISHU[0]}", "code 19021"),
        ("feishu://unknown-token/x", "code 19001"),
    ],
)
def test_a_bad_signature_or_an_unknown_robot_is_given_up(
    url: str,
    code: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
) -> None:
    notifier = notifier_for(sections=robots(vendors))
    publish(redis_client, names.stream, job(url))
    settle(notifier)

    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts) == (DeliveryOutcome.FAILED, 1)
    assert (row.last_error or "").startswith(code)


def test_a_robot_sent_to_too_fast_is_retried(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    for robot in ("dingtalk", "wecom", "feishu"):
        vendors.script(robot, "throttled", "ok")
    notifier = notifier_for(sections=robots(vendors))
    publish(redis_client, names.stream, job(DINGTALK_URL, WECOM_URL, FEISHU_URL))
    settle(notifier)
    errors = [r.last_error or "" for r in deliveries(sessions)]
    assert [e.split(":")[0] for e in errors] == ["errcode 130101", "errcode 45009", "code 11232"]
    assert {r.outcome for r in deliveries(sessions)} == {DeliveryOutcome.PENDING}

    clock.advance(5)
    settle(notifier)
    assert [(r.outcome, r.attempts) for r in deliveries(sessions)] == [
        (DeliveryOutcome.SENT, 2)
    ] * 3
