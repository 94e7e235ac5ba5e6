"""The pure parts: back-off, target names, push service answers, settings checks."""

import pytest
import requests

from notify import aliyun, tencent
from notify.retry import Backoff
from notify.settings import NotifierSettings, RetrySection
from notify.targets import apprise_channel, redact
from notify.webpush import classify
from records.notifications import DeliveryError
from shouwang.settings import ConfigError
from shouwang_cli.config_docs import settings_reference


def test_back_off_doubles_up_to_the_cap_and_gives_up() -> None:
    section = RetrySection(
        initial_delay_s=5, multiplier=2, max_delay_s=30, max_attempts=6, jitter=0
    )
    backoff = Backoff(section)
    assert [backoff.delay_s(n) for n in range(1, 7)] == [5, 10, 20, 30, 30, None]
    assert backoff.delay_s(1, retry_after_s=120) == 30  # Retry-After, but never past the cap
    assert backoff.delay_s(2, retry_after_s=12) == 12


def test_back_off_jitter_stays_within_its_fraction() -> None:
    section = RetrySection(initial_delay_s=10, jitter=0.2)
    assert Backoff(section, rng=lambda low, high: high).delay_s(1) == 12
    assert Backoff(section, rng=lambda low, high: low).delay_s(1) == 8


@pytest.mark.parametrize(
    ("url", "channel"),
    [
        ("dingtalk://secret@token/", "dingtalk"),
        ("WECOMBOT://key", "wecombot"),
        ("mailtos://user:pass@example.org", "mailtos"),
        ("webpush", None),
        ("13800000001", None),
        ("://nothing", None),
    ],
)
def test_apprise_channel(url: str, channel: str | None) -> None:
    assert apprise_channel(url) == channel


def test_redact_keeps_tokens_out_of_logs() -> None:
    assert redact("dingtalk://secret@token123/13800000001") == "dingtalk://token123/…"
    assert redact("wecombot://abcdef-key") == "wecombot://abcdef-key/…"
    assert redact("https://fcm.googleapis.com/fcm/send/XYZ") == "https://fcm.googleapis.com/…"
    assert redact("") == "(none)"


def _response(status: int, retry_after: str = "") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.reason = "scripted"
    response._content = b""
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def test_push_service_answers() -> None:
    assert classify(_response(201)).ok
    gone = classify(_response(410))
    assert (gone.ok, gone.gone, gone.recoverable) == (False, True, False)
    assert classify(_response(404)).gone
    limited = classify(_response(429, "17"))
    assert (limited.recoverable, limited.retry_after_s) == (True, 17)
    assert classify(_response(502)).recoverable
    for status in (400, 403, 413):
        result = classify(_response(status))
        assert not result.ok and not result.recoverable and not result.gone


def test_settings_are_checked_with_the_key_path() -> None:
    with pytest.raises(ConfigError, match=r"notify: Value error, lease_s 5\.0 must exceed"):
        NotifierSettings.load(notify={"lease_s": 5, "timeout_s": 10})
    with pytest.raises(ConfigError, match=r"notify_webpush\.urgency"):
        NotifierSettings.load(notify_webpush={"urgency": {"critical": "asap"}})
    with pytest.raises(ConfigError, match=r"notify\.timezone"):
        NotifierSettings.load(notify={"timezone": "Mars/Olympus"})


def test_every_setting_is_documented() -> None:
    reference = settings_reference("Notifier", NotifierSettings, "SHOUWANG_")
    for section in ("notify", "notify_retry", "notify_webpush", "database"):
        assert f"### `{section}`" in reference
    for name in ("notify", "notify_retry", "notify_webpush"):
        model = NotifierSettings.model_fields[name].annotation
        assert model is not None
        assert all(field.description for field in model.model_fields.values())  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "message", "reason", "retried"),
    [
        ("isv.MOBILE_NUMBER_ILLEGAL", "号码格式非法", DeliveryError.INVALID_NUMBER, False),
        ("isv.AMOUNT_NOT_ENOUGH", "账户余额不足", DeliveryError.NO_BALANCE, False),
        ("isv.OUT_OF_SERVICE", "业务停机", DeliveryError.NO_BALANCE, False),
        ("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10", DeliveryError.DAILY_LIMIT, False),
        ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", DeliveryError.THROTTLED, True),
        ("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法", DeliveryError.TEMPLATE_REJECTED, False),
        ("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量", DeliveryError.TEMPLATE_REJECTED, False),
        ("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法", DeliveryError.TEMPLATE_REJECTED, False),
        ("SignatureDoesNotMatch", "Specified signature…", DeliveryError.ACCOUNT, False),
        ("InvalidAccessKeyId.NotFound", "Specified access key…", DeliveryError.ACCOUNT, False),
        (
            "Throttling.User",
            "Request was denied due to user flow control.",
            DeliveryError.THROTTLED,
            True,
        ),
        ("isp.SYSTEM_ERROR", "系统错误", DeliveryError.UNAVAILABLE, True),
        ("isv.SMS_CONTENT_ILLEGAL", "短信内容包含禁止发送内容", DeliveryError.REFUSED, False),
    ],
)
def test_aliyun_codes_say_why(
    code: str, message: str, reason: DeliveryError, retried: bool
) -> None:
    result = aliyun.outcome(code, message)
    assert (result.ok, result.reason, result.recoverable) == (False, reason, retried)
    assert result.error == f"{code}: {message}"


@pytest.mark.parametrize(
    ("code", "reason", "retried"),
    [
        ("InvalidParameterValue.IncorrectPhoneNumber", DeliveryError.INVALID_NUMBER, False),
        ("InvalidParameterValue.CalledNumberVerifyFail", DeliveryError.INVALID_NUMBER, False),
        ("FailedOperation.InsufficientBalanceInSmsPackage", DeliveryError.NO_BALANCE, False),
        ("FailedOperation.InsufficientBalanceInVoicePackage", DeliveryError.NO_BALANCE, False),
        ("LimitExceeded.PhoneNumberDailyLimit", DeliveryError.DAILY_LIMIT, False),
        ("LimitExceeded.AppDailyLimit", DeliveryError.DAILY_LIMIT, False),
        ("FailedOperation.TemplateIncorrectOrUnapproved", DeliveryError.TEMPLATE_REJECTED, False),
        (
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            DeliveryError.TEMPLATE_REJECTED,
            False,
        ),
        ("FailedOperation.SignatureIncorrectOrUnapproved", DeliveryError.TEMPLATE_REJECTED, False),
        ("AuthFailure.SecretIdNotFound", DeliveryError.ACCOUNT, False),
        ("InvalidParameterValue.SdkAppIdNotExist", DeliveryError.ACCOUNT, False),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", DeliveryError.THROTTLED, True),
        ("RequestLimitExceeded", DeliveryError.THROTTLED, True),
        ("InternalError.Timeout", DeliveryError.UNAVAILABLE, True),
        ("ClientNetworkError", DeliveryError.UNAVAILABLE, True),
        ("FailedOperation.PhoneNumberInBlacklist", DeliveryError.REFUSED, False),
    ],
)
def test_tencent_codes_say_why(code: str, reason: DeliveryError, retried: bool) -> None:
    result = tencent.outcome(code, "…")
    assert (result.ok, result.reason, result.recoverable) == (False, reason, retried)


def test_push_service_and_robot_answers_say_why() -> None:
    assert classify(_response(410)).reason is DeliveryError.SUBSCRIPTION_GONE
    assert classify(_response(403)).reason is DeliveryError.PUSH_REFUSED
    assert classify(_response(429)).reason is DeliveryError.THROTTLED
    assert classify(_response(503)).reason is DeliveryError.UNAVAILABLE
    assert classify(_response(201)).reason is None
