"""SMS and voice call-outs through Aliyun and Tencent Cloud with their SDKs, against the local
vendor that checks the signature, the template and its parameters, and the number: accepted,
retried when throttled, given up on an invalid number, an empty balance or a daily limit."""

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.notifications import DeliveryOutcome, Notification
from tests.notify.builders import T0, Clock, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.test_delivery import deliveries
from tests.notify.vendors import (
    ALIYUN_KEY,
    SIGN_NAME,
    TENCENT_APP,
    TENCENT_KEY,
    Vendors,
)

SMS_ACTION = {"aliyun": "SendSms", "tencent": "SendSms"}
VOICE_ACTION = {"aliyun": "SingleCallByTts", "tencent": "SendTtsVoice"}
WORDED = ("severity", "title", "place", "time", "lead")
"""The variables of the templates SMS_468000002 (Aliyun: `${severity}警情：${title}，${place}，
${time}。${lead}`) and 2000002 (Tencent Cloud: `{1}警情：{2}，{3}，{4}。{5}`)."""


def cloud(vendors: Vendors, provider: str, *, secret: str | None = None) -> dict[str, Any]:
    """`notify_sms` and `notify_voice` for `provider` at the local vendor."""
    key_id, key_secret = ALIYUN_KEY if provider == "aliyun" else TENCENT_KEY
    common = {
        "provider": provider,
        "access_key_id": key_id,
        "access_key_secret": secret or key_secret,
        "endpoint": vendors.endpoint,
        "protocol": "http",
    }
    if provider == "aliyun":
        sms = common | {
            "sign_name": SIGN_NAME,
            "template": "SMS_468000001",
            "params": {"severity": "{severity}", "title": "{title}", "time": "{time}"},
        }
        voice = common | {"template": "TTS_300000001", "params": {"title": "{title}"}}
    else:
        sms = common | {
            "app_id": TENCENT_APP,
            "sign_name": SIGN_NAME,
            "template": "2000001",
            "params": {"1": "{severity}", "2": "{title}", "3": "{time}"},
        }
        voice = common | {"app_id": TENCENT_APP, "template": "3000001", "params": {"1": "{title}"}}
    return {"notify_sms": sms, "notify_voice": voice}


def worded(vendors: Vendors, provider: str) -> dict[str, Any]:
    """`cloud` with an SMS template that says the lead and the place too (`WORDED`)."""
    sections = cloud(vendors, provider)
    if provider == "aliyun":
        template, params = "SMS_468000002", {name: f"{{{name}}}" for name in WORDED}
    else:
        template, params = "2000002", {str(n): f"{{{v}}}" for n, v in enumerate(WORDED, 1)}
    sections["notify_sms"] |= {"template": template, "params": params}
    return sections


def sms_values(vendors: Vendors, provider: str) -> list[dict[str, str]]:
    """The values of each worded SMS the vendor got, by variable."""
    if provider == "aliyun":
        return [json.loads(sms.params["TemplateParam"]) for sms in vendors.of("SendSms")]
    return [
        dict(zip(WORDED, sms.params["TemplateParamSet"], strict=True))
        for sms in vendors.of("SendSms")
    ]


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_an_sms_and_a_call_reach_the_mobile_number_with_the_template_parameters(
    provider: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, provider))
    publish(redis_client, names.stream, job("sms", "voice", phone="138 0000 0001"))
    settle(notifier)

    rows = deliveries(sessions)
    assert [(r.channel, r.target, r.outcome, r.attempts) for r in rows] == [
        ("sms", "13800000001", DeliveryOutcome.SENT, 1),
        ("voice", "13800000001", DeliveryOutcome.SENT, 1),
    ]
    [sms] = vendors.of(SMS_ACTION[provider])
    [call] = vendors.of(VOICE_ACTION[provider])
    if provider == "aliyun":
        assert sms.params["PhoneNumbers"] == "13800000001"
        assert sms.params["SignName"] == SIGN_NAME
        assert sms.params["TemplateCode"] == "SMS_468000001"
        assert sms.params["TemplateParam"] == (
            '{"severity": "危急", "title": "王奶奶家 跌倒", "time": "10:00"}'
        )
        assert (call.params["CalledNumber"], call.params["TtsCode"]) == (
            "13800000001",
            "TTS_300000001",
        )
        assert call.params["TtsParam"] == '{"title": "王奶奶家 跌倒"}'
    else:
        assert sms.params["PhoneNumberSet"] == ["+8613800000001"]
        assert sms.params["TemplateParamSet"] == ["危急", "王奶奶家 跌倒", "10:00"]
        assert (sms.params["SmsSdkAppId"], sms.params["SignName"]) == (TENCENT_APP, SIGN_NAME)
        assert call.params["CalledNumber"] == "+8613800000001"
        assert call.params["TemplateParamSet"] == ["王奶奶家 跌倒"]
    assert sms.code == ("OK" if provider == "aliyun" else "Ok")
    assert notifier.metrics.sent.labels("sms")._value.get() == 1
    assert notifier.metrics.sent.labels("voice")._value.get() == 1


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_job_queued_without_place_and_lead_is_sent_with_them_read_from_its_body(
    provider: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
) -> None:
    body = "【危急】家属已响应：王丽｜王奶奶家 跌倒｜碧江区 灯塔村 3组｜11-28 10:00"
    fields = replace(job("sms"), body=body).to_fields()
    old = {name: text for name, text in fields.items() if name not in ("place", "lead")}
    redis_client.xadd(names.stream, {**old, "seq": "1"})  # as queued before the upgrade
    notifier = notifier_for(sections=worded(vendors, provider))
    settle(notifier)

    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts) == (DeliveryOutcome.SENT, 1)
    with sessions() as session:
        recorded = session.get(Notification, fields["job_id"])
        assert recorded is not None and (recorded.place, recorded.lead) == (None, None)
    assert sms_values(vendors, provider) == [
        {
            "lead": "家属已响应：王丽",
            "severity": "危急",
            "title": "王奶奶家 跌倒",
            "place": "碧江区 灯塔村 3组",
            "time": "10:00",
        }
    ]


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_throttled_sms_is_retried_after_back_off(
    provider: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    vendors.script("SendSms", "throttled", "throttled", "ok")
    notifier = notifier_for(sections=cloud(vendors, provider))
    publish(redis_client, names.stream, job("sms"))
    settle(notifier)

    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts) == (DeliveryOutcome.PENDING, 1)
    limit = "isv.BUSINESS_LIMIT_CONTROL" if provider == "aliyun" else "ThirtySecondLimit"
    assert limit in (row.last_error or "")
    # Aliyun's minute-level throttle asks for a minute; Tencent's goes by the back-off (5 s)
    wait = 60 if provider == "aliyun" else 5
    assert row.next_attempt_at == T0 + timedelta(seconds=wait)
    for _ in range(2):
        clock.advance(60)
        settle(notifier)
    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts) == (DeliveryOutcome.SENT, 3)
    assert len(vendors.of("SendSms")) == 3
    assert notifier.metrics.retried.labels("sms")._value.get() == 2


@pytest.mark.parametrize(
    ("provider", "fault", "code"),
    [
        ("aliyun", "no_balance", "isv.AMOUNT_NOT_ENOUGH"),
        ("aliyun", "daily_limit", "isv.BUSINESS_LIMIT_CONTROL"),
        ("tencent", "no_balance", "FailedOperation.InsufficientBalanceInSmsPackage"),
        ("tencent", "daily_limit", "LimitExceeded.PhoneNumberDailyLimit"),
    ],
)
def test_an_empty_balance_or_a_daily_limit_gives_up_at_once(
    provider: str,
    fault: str,
    code: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
) -> None:
    vendors.script("SendSms", fault)
    notifier = notifier_for(sections=cloud(vendors, provider))
    publish(redis_client, names.stream, job("sms"))
    settle(notifier)

    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts) == (DeliveryOutcome.FAILED, 1)
    assert (row.last_error or "").startswith(code)
    assert len(vendors.of("SendSms")) == 1


@pytest.mark.parametrize(
    ("provider", "sms_code", "voice_code"),
    [
        ("aliyun", "isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_NUMBER_ILLEGAL"),
        (
            "tencent",
            "InvalidParameterValue.IncorrectPhoneNumber",
            "InvalidParameterValue.CalledNumberVerifyFail",
        ),
    ],
)
def test_a_number_the_vendor_refuses_is_given_up_and_one_that_is_no_mobile_never_sent(
    provider: str,
    sms_code: str,
    voice_code: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, provider))
    publish(redis_client, names.stream, job("sms", "voice", phone="12000000001"))
    publish(redis_client, names.stream, job("sms", phone="0851-5551234", recipient_id=2))
    settle(notifier)

    sms, voice, landline = deliveries(sessions)
    assert (sms.outcome, sms.attempts) == (DeliveryOutcome.FAILED, 1)
    assert (sms.last_error or "").startswith(sms_code)
    assert (voice.outcome, (voice.last_error or "").split(":")[0]) == (
        DeliveryOutcome.FAILED,
        voice_code,
    )
    assert (landline.outcome, landline.attempts) == (DeliveryOutcome.FAILED, 0)
    assert "no mainland mobile number" in (landline.last_error or "")
    assert len(vendors.sends) == 2


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_voice_call_is_retried_when_throttled_and_given_up_without_balance(
    provider: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
    clock: Clock,
) -> None:
    action = VOICE_ACTION[provider]
    throttled, empty = (
        ("throttled", "no_balance")
        if provider == "aliyun"
        else ("voice_throttled", "voice_no_balance")
    )
    vendors.script(action, throttled, "ok", empty)
    notifier = notifier_for(sections=cloud(vendors, provider))
    publish(redis_client, names.stream, job("voice"))
    settle(notifier)
    clock.advance(60)
    settle(notifier)
    publish(redis_client, names.stream, job("voice", recipient_id=2))
    settle(notifier)

    first, second = deliveries(sessions)
    assert (first.outcome, first.attempts) == (DeliveryOutcome.SENT, 2)
    assert (second.outcome, second.attempts) == (DeliveryOutcome.FAILED, 1)
    assert "Balance" in (second.last_error or "") or "AMOUNT" in (second.last_error or "")


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_wrong_secret_is_refused_by_the_signature_check_and_given_up(
    provider: str,
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    vendors: Vendors,
) -> None:
    notifier = notifier_for(sections=cloud(vendors, provider, secret="not-the-secret"))
    publish(redis_client, names.stream, job("sms"))
    settle(notifier)

    [row] = deliveries(sessions)
    assert row.outcome == DeliveryOutcome.FAILED
    expected = "SignatureDoesNotMatch" if provider == "aliyun" else "AuthFailure.SignatureFailure"
    assert (row.last_error or "").startswith(expected)


def test_sms_without_a_vendor_fails_saying_where_to_set_it_up(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
) -> None:
    notifier = notifier_for()
    publish(redis_client, names.stream, job("sms"))
    settle(notifier)

    [row] = deliveries(sessions)
    assert row.outcome == DeliveryOutcome.FAILED
    assert "notify_sms" in (row.last_error or "")
