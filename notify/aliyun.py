"""Aliyun (阿里云) cloud communications with the official SDKs: 短信服务 SendSms
(dysmsapi 2017-05-25) and 语音服务 SingleCallByTts (dyvmsapi 2017-05-25). The SDKs sign each
request (ACS3-HMAC-SHA256); the answer's `Code` says whether it was accepted."""

import json
from typing import Any
from zoneinfo import ZoneInfo

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client as SmsClient
from alibabacloud_dyvmsapi20170525 import models as voice_models
from alibabacloud_dyvmsapi20170525.client import Client as VoiceClient
from alibabacloud_tea_openapi.exceptions import (
    AlibabaCloudException,
    ServerException,
    ThrottlingException,
)
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_util.models import RuntimeOptions

from notify.channel import Message, Result, Target
from notify.settings import CloudSection, SmsSection, VoiceSection
from notify.templates import render_params
from records.notifications import DeliveryError

SMS_ENDPOINT = "dysmsapi.aliyuncs.com"
VOICE_ENDPOINT = "dyvmsapi.aliyuncs.com"

RETRYABLE = frozenset({"isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "isp.UNKNOWN", "Throttling"})
"""Codes worth another attempt; `isv.BUSINESS_LIMIT_CONTROL` (throttled) too, unless it is
the daily limit. Every other code (invalid number, balance, template, signature, account) is
final."""
THROTTLED = "isv.BUSINESS_LIMIT_CONTROL"
REASONS = {
    "isv.MOBILE_NUMBER_ILLEGAL": DeliveryError.INVALID_NUMBER,
    "isv.AMOUNT_NOT_ENOUGH": DeliveryError.NO_BALANCE,
    "isv.OUT_OF_SERVICE": DeliveryError.NO_BALANCE,
    "isv.DAY_LIMIT_CONTROL": DeliveryError.DAILY_LIMIT,
    "isv.SMS_TEMPLATE_ILLEGAL": DeliveryError.TEMPLATE_REJECTED,
    "isv.TEMPLATE_MISSING_PARAMETERS": DeliveryError.TEMPLATE_REJECTED,
    "isv.INVALID_JSON_PARAM": DeliveryError.TEMPLATE_REJECTED,
    "isv.PARAM_LENGTH_LIMIT": DeliveryError.TEMPLATE_REJECTED,
    "isv.SMS_SIGNATURE_ILLEGAL": DeliveryError.TEMPLATE_REJECTED,
    "SignatureDoesNotMatch": DeliveryError.ACCOUNT,
    "IncompleteSignature": DeliveryError.ACCOUNT,
    "InvalidAccessKeyId.NotFound": DeliveryError.ACCOUNT,
    "InvalidAccessKeyId.Inactive": DeliveryError.ACCOUNT,
    "isv.ACCOUNT_NOT_EXISTS": DeliveryError.ACCOUNT,
    "isv.ACCOUNT_ABNORMAL": DeliveryError.ACCOUNT,
    "isv.PRODUCT_UN_SUBSCRIPT": DeliveryError.ACCOUNT,
    "isp.RAM_PERMISSION_DENY": DeliveryError.ACCOUNT,
}
"""Why a final code failed; any other is `refused` (the code says which)."""


def reason(code: str, message: str) -> DeliveryError:
    """What an answer with this `Code` and `Message` that is not `OK` means."""
    if code == THROTTLED:  # 触发天级流控: nothing goes to this number before tomorrow
        return DeliveryError.DAILY_LIMIT if "天级" in message else DeliveryError.THROTTLED
    if code.startswith("Throttling"):
        return DeliveryError.THROTTLED
    if code in RETRYABLE:
        return DeliveryError.UNAVAILABLE
    return REASONS.get(code, DeliveryError.REFUSED)


def outcome(code: str, message: str, vendor_id: str = "") -> Result:
    """The result of an answer with this `Code` and `Message` (and `BizId` or `CallId`)."""
    if code == "OK":
        return Result.sent(vendor_id)
    error, why = f"{code}: {message}", reason(code, message)
    if why is DeliveryError.THROTTLED:
        return Result.retry(error, why, retry_after_s=60.0 if "分钟级" in message else None)
    if why is DeliveryError.UNAVAILABLE:
        return Result.retry(error, why)
    return Result.give_up(error, why)


def _failure(exc: Exception) -> Result:
    if isinstance(exc, ThrottlingException):
        error = f"{exc.code}: {exc.message}"
        return Result.retry(error, DeliveryError.THROTTLED, retry_after_s=exc.retry_after)
    if isinstance(exc, ServerException):
        return Result.retry(f"{exc.code}: {exc.message}", DeliveryError.UNAVAILABLE)
    if isinstance(exc, AlibabaCloudException):  # 4xx: signature, key, parameters
        return outcome(str(exc.code), str(exc.message))
    return Result.retry(f"{type(exc).__name__}: {exc}"[:500], DeliveryError.UNAVAILABLE)


class AliyunAccount:
    """An Aliyun account's SDK configuration (the SDK's own retries off), and the template's
    parameters."""

    def __init__(self, section: CloudSection, endpoint: str, zone: ZoneInfo, timeout_s: float):
        self.section = section
        self.zone = zone
        self.config = Config(
            access_key_id=section.access_key_id,
            access_key_secret=section.access_key_secret.get_secret_value(),
            endpoint=section.endpoint or endpoint,
            protocol=section.protocol,
        )
        timeout_ms = int(timeout_s * 1000)
        self.runtime = RuntimeOptions(
            read_timeout=timeout_ms, connect_timeout=timeout_ms, autoretry=False
        )

    def params(self, message: Message) -> str:
        values = render_params(
            self.section.params, message, self.zone, self.section.max_param_chars
        )
        return json.dumps(values, ensure_ascii=False)

    def answer(self, call: Any, id_field: str) -> Result:
        try:
            response = call()
        except Exception as exc:  # the SDK raises for HTTP errors and the network alike
            return _failure(exc)
        body = response.body
        return outcome(str(body.code), str(body.message), str(getattr(body, id_field) or ""))


class AliyunSms(AliyunAccount):
    """`sms` through Aliyun 短信服务."""

    def __init__(self, section: SmsSection, zone: ZoneInfo, timeout_s: float) -> None:
        super().__init__(section, SMS_ENDPOINT, zone, timeout_s)
        self.sign_name = section.sign_name

    def send(self, message: Message, target: Target) -> Result:
        """Text the template to the mobile number `target.address`."""
        request = sms_models.SendSmsRequest(
            phone_numbers=target.address,
            sign_name=self.sign_name,
            template_code=self.section.template,
            template_param=self.params(message),
            out_id=message.job_id[:64],
        )
        client = SmsClient(self.config)
        return self.answer(lambda: client.send_sms_with_options(request, self.runtime), "biz_id")


class AliyunVoice(AliyunAccount):
    """`voice` through Aliyun 语音服务: a call that reads the template (TTS)."""

    def __init__(self, section: VoiceSection, zone: ZoneInfo, timeout_s: float) -> None:
        super().__init__(section, VOICE_ENDPOINT, zone, timeout_s)
        self.show_number = section.show_number or None
        self.play_times = section.play_times

    def send(self, message: Message, target: Target) -> Result:
        """Call `target.address` and read the template."""
        request = voice_models.SingleCallByTtsRequest(
            called_number=target.address,
            called_show_number=self.show_number,
            tts_code=self.section.template,
            tts_param=self.params(message),
            play_times=self.play_times,
            out_id=message.job_id[:64],
        )
        client = VoiceClient(self.config)
        return self.answer(
            lambda: client.single_call_by_tts_with_options(request, self.runtime), "call_id"
        )
