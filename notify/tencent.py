"""Tencent Cloud (腾讯云) with the official SDKs: 短信 SendSms (sms 2021-01-11) and 语音消息
SendTtsVoice (vms 2020-09-02). The SDK signs each request (TC3-HMAC-SHA256); a refused request
comes back as `Response.Error`, and SendSms also answers per number in `SendStatusSet`."""

from zoneinfo import ZoneInfo

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient
from tencentcloud.vms.v20200902 import models as voice_models
from tencentcloud.vms.v20200902.vms_client import VmsClient

from notify.channel import Message, Result, Target
from notify.settings import CloudSection, SmsSection, VoiceSection
from notify.templates import positional, render_params
from records.notifications import DeliveryError

SMS_ENDPOINT = "sms.tencentcloudapi.com"
VOICE_ENDPOINT = "vms.tencentcloudapi.com"

RETRYABLE = frozenset(
    {
        "LimitExceeded.PhoneNumberThirtySecondLimit",
        "LimitExceeded.PhoneNumberOneHourLimit",
        "LimitExceeded.DeliveryFrequencyLimit",
        "InternalError",
        "InternalError.Timeout",
        "InternalError.OtherError",
        "InternalError.UpstreamError",
        "InternalError.AccessUpstreamTimeout",
        "InternalError.SsoSendRecvFail",
        "FailedOperation.AccessUpstreamTimeout",
    }
)
"""Codes worth another attempt: throttled for a while, or the vendor's trouble (and
`RequestLimitExceeded…`). Every other code is final: an invalid number, no balance left, a
template or signature not approved, wrong keys, a daily limit reached."""
NETWORK = frozenset(
    {"ClientNetworkError", "ServerNetworkError", "ConnectionError", "ConnectTimeout", "ReadTimeout"}
)
"""The SDK's codes for a request that got no answer (it names the requests exception)."""


REASONS = {
    "InvalidParameterValue.IncorrectPhoneNumber": DeliveryError.INVALID_NUMBER,
    "InvalidParameterValue.CalledNumberVerifyFail": DeliveryError.INVALID_NUMBER,
    "FailedOperation.InsufficientBalanceInSmsPackage": DeliveryError.NO_BALANCE,
    "FailedOperation.InsufficientBalanceInVoicePackage": DeliveryError.NO_BALANCE,
    "LimitExceeded.PhoneNumberDailyLimit": DeliveryError.DAILY_LIMIT,
    "LimitExceeded.AppDailyLimit": DeliveryError.DAILY_LIMIT,
    "FailedOperation.TemplateIncorrectOrUnapproved": DeliveryError.TEMPLATE_REJECTED,
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": DeliveryError.TEMPLATE_REJECTED,
    "FailedOperation.SignatureIncorrectOrUnapproved": DeliveryError.TEMPLATE_REJECTED,
    "InvalidParameterValue.SdkAppIdNotExist": DeliveryError.ACCOUNT,
    "InvalidParameterValue.SdkAppidNotExist": DeliveryError.ACCOUNT,
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": DeliveryError.ACCOUNT,
}
"""Why a final code failed (and `AuthFailure…`: the account); any other is `refused`."""


def reason(code: str) -> DeliveryError:
    """What an answer with this code that is not `Ok` means."""
    if code in RETRYABLE or code in NETWORK or code.startswith("RequestLimitExceeded"):
        throttled = code.startswith(("LimitExceeded", "RequestLimitExceeded"))
        return DeliveryError.THROTTLED if throttled else DeliveryError.UNAVAILABLE
    if code.startswith("AuthFailure"):
        return DeliveryError.ACCOUNT
    return REASONS.get(code, DeliveryError.REFUSED)


def outcome(code: str, message: str, vendor_id: str = "") -> Result:
    """The result of an answer with this code (`Ok` for a number that was sent to, with its
    `SerialNo`)."""
    if code == "Ok":
        return Result.sent(vendor_id)
    error, why = f"{code}: {message}", reason(code)
    if why in (DeliveryError.THROTTLED, DeliveryError.UNAVAILABLE):
        return Result.retry(error, why)
    return Result.give_up(error, why)


class TencentAccount:
    """A Tencent Cloud account's credential and profile, and the template's parameters."""

    def __init__(self, section: CloudSection, endpoint: str, zone: ZoneInfo, timeout_s: float):
        self.section = section
        self.zone = zone
        self.credential = credential.Credential(
            section.access_key_id, section.access_key_secret.get_secret_value()
        )
        self.http = HttpProfile(
            protocol=section.protocol,
            endpoint=section.endpoint or endpoint,
            reqTimeout=max(1, round(timeout_s)),
        )

    def params(self, message: Message) -> list[str]:
        values = render_params(
            self.section.params, message, self.zone, self.section.max_param_chars
        )
        return positional(values)

    def profile(self) -> ClientProfile:
        return ClientProfile(httpProfile=self.http)


class TencentSms(TencentAccount):
    """`sms` through Tencent Cloud 短信."""

    def __init__(self, section: SmsSection, zone: ZoneInfo, timeout_s: float) -> None:
        super().__init__(section, SMS_ENDPOINT, zone, timeout_s)
        self.sign_name = section.sign_name

    def send(self, message: Message, target: Target) -> Result:
        """Text the template to the mobile number `target.address` (+86…)."""
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{target.address}"]
        request.SmsSdkAppId = self.section.app_id
        request.SignName = self.sign_name
        request.TemplateId = self.section.template
        request.TemplateParamSet = self.params(message)
        request.SessionContext = message.job_id
        client = SmsClient(self.credential, self.section.region, self.profile())
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            return outcome(str(exc.get_code()), str(exc.get_message()))
        statuses = response.SendStatusSet or []
        if not statuses:
            error = "SendSms answered without a SendStatusSet"
            return Result.retry(error, DeliveryError.UNAVAILABLE)
        status = statuses[0]
        return outcome(str(status.Code), str(status.Message), str(status.SerialNo or ""))


class TencentVoice(TencentAccount):
    """`voice` through Tencent Cloud 语音消息: a call that reads the template."""

    def __init__(self, section: VoiceSection, zone: ZoneInfo, timeout_s: float) -> None:
        super().__init__(section, VOICE_ENDPOINT, zone, timeout_s)
        self.play_times = section.play_times

    def send(self, message: Message, target: Target) -> Result:
        """Call `target.address` (+86…) and read the template."""
        request = voice_models.SendTtsVoiceRequest()
        request.TemplateId = self.section.template
        request.CalledNumber = f"+86{target.address}"
        request.VoiceSdkAppid = self.section.app_id
        request.TemplateParamSet = self.params(message)
        request.PlayTimes = self.play_times
        request.SessionContext = message.job_id
        client = VmsClient(self.credential, self.section.region, self.profile())
        try:
            response = client.SendTtsVoice(request)
        except TencentCloudSDKException as exc:
            return outcome(str(exc.get_code()), str(exc.get_message()))
        if response.SendStatus is None or not response.SendStatus.CallId:
            error = "SendTtsVoice answered without a CallId"
            return Result.retry(error, DeliveryError.UNAVAILABLE)
        return Result.sent(str(response.SendStatus.CallId))
