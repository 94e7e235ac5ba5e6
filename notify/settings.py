"""Settings of the notification dispatcher (`notify`, `notify_retry`, `notify_webpush`,
`notify_sms`, `notify_voice`, `notify_receipts`, `notify_robots` and `database` sections of the
config file)."""

import socket
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from records.settings import DatabaseSettings
from records.types import Severity
from shouwang.redis_keys import (
    DEADLETTER_STREAM,
    NOTIFICATIONS_STREAM,
    NOTIFIER_GROUP,
    NOTIFIER_PREFIX,
)
from shouwang.settings import GroupStart, Section, ServiceSettings, TimeZone


class NotifySection(Section):
    """How the dispatcher reads notification jobs and sends their deliveries."""

    stream: str = Field(NOTIFICATIONS_STREAM, description="Redis Stream of notification jobs.")
    group: str = Field(
        NOTIFIER_GROUP, description="Consumer group; every notifier of a deployment joins it."
    )
    group_start: GroupStart = Field(
        "$",
        description="Where a newly created group starts: `$` (only new jobs) or `0` (every job "
        "still in the stream).",
    )
    consumer: str = Field(
        default_factory=socket.gethostname,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="This worker's consumer name in the group; unique per worker and stable "
        "across restarts (default: the host name).",
    )
    batch_size: int = Field(100, ge=1, le=10_000, description="Most jobs read at once.")
    block_ms: int = Field(
        500,
        ge=10,
        le=60_000,
        description="How long a read waits for new jobs while nothing is being sent; also how "
        "late a retry or the end of quiet hours may be noticed.",
    )
    max_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="A job whose planning fails this many times (or that is delivered this many "
        "times without an acknowledgement) goes to the dead-letter stream.",
    )
    reclaim_idle_ms: int = Field(
        60_000,
        ge=0,
        description="Jobs pending this long (their worker died) are claimed with XAUTOCLAIM.",
    )
    reclaim_interval_s: float = Field(
        5.0, gt=0, description="How often a worker looks for jobs to reclaim."
    )
    deadletter_stream: str = Field(
        DEADLETTER_STREAM, description="Where jobs that cannot be read or planned go."
    )
    key_prefix: str = Field(
        NOTIFIER_PREFIX, description="Prefix of the dispatcher's Redis keys (failure counts)."
    )
    concurrency: int = Field(
        16, ge=1, le=512, description="Deliveries sent at the same time (threads)."
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, description="Longest wait for a push service or apprise target."
    )
    lease_s: float = Field(
        60.0,
        gt=0,
        description="How long a delivery being sent is reserved for its worker; if that worker "
        "dies, another sends it after this (must exceed timeout_s).",
    )
    timezone: TimeZone = Field(
        "Asia/Shanghai", description="Time zone of the recipients' quiet hours (IANA name)."
    )
    metrics_port: int = Field(
        9110, ge=0, le=65535, description="Prometheus metrics port; 0 turns the endpoint off."
    )

    @model_validator(mode="after")
    def _lease_outlasts_timeout(self) -> "NotifySection":
        if self.lease_s <= self.timeout_s:
            raise ValueError(f"lease_s {self.lease_s} must exceed timeout_s {self.timeout_s}")
        return self


class RetrySection(Section):
    """Exponential back-off of failed deliveries that are worth retrying."""

    max_attempts: int = Field(
        10, ge=1, le=100, description="Attempts before a delivery is given up as failed."
    )
    initial_delay_s: float = Field(5.0, gt=0, description="Wait before the first retry.")
    multiplier: float = Field(2.0, ge=1, description="Each further wait is this much longer.")
    max_delay_s: float = Field(600.0, gt=0, description="Longest wait between two attempts.")
    jitter: float = Field(
        0.1,
        ge=0,
        lt=1,
        description="Each wait is shortened or lengthened at random by up to this fraction, so "
        "deliveries failed together are not retried in lockstep.",
    )


SEVERITY_TTL_S = {
    Severity.CRITICAL: 24 * 3600,
    Severity.HIGH: 12 * 3600,
    Severity.MEDIUM: 6 * 3600,
    Severity.LOW: 3600,
}
SEVERITY_URGENCY = {
    Severity.CRITICAL: "high",
    Severity.HIGH: "high",
    Severity.MEDIUM: "normal",
    Severity.LOW: "low",
}


PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    ".push.services.mozilla.com",
    ".push.apple.com",
    ".notify.windows.com",
)
"""The browsers' push services: Chrome and Android (FCM), Firefox, Safari, Edge."""


class WebPushSection(Section):
    """Web Push (VAPID) to the guardian page and the back office in browsers."""

    subject: str = Field(
        "mailto:admin@example.org",
        pattern=r"^(mailto:|https://)",
        description="VAPID contact (`mailto:` or `https://`) push services may use to reach the "
        "operator of this deployment.",
    )
    ttl_s: dict[Severity, int] = Field(
        default_factory=lambda: dict(SEVERITY_TTL_S),
        description="How long a push service keeps a message for a phone that is offline, by "
        "severity (seconds).",
    )
    urgency: dict[Severity, str] = Field(
        default_factory=lambda: dict(SEVERITY_URGENCY),
        description="Web Push `Urgency` by severity (`very-low`, `low`, `normal`, `high`); "
        "phones saving battery deliver only high-urgency messages at once.",
    )
    endpoint_hosts: list[str] = Field(
        default_factory=lambda: list(PUSH_SERVICE_HOSTS),
        description="Hosts push endpoints may point to (`.example.com` also matches its "
        "subdomains); a subscription elsewhere is refused when sending, so a page cannot aim "
        "the notifier at internal addresses. Empty: any host.",
    )
    click_url: str = Field(
        "/guardian/alerts/{alert_id}",
        description="Page the notification opens (`{alert_id}` is replaced); sent in the "
        "payload as `url` for the service worker.",
    )

    @field_validator("ttl_s", "urgency")
    @classmethod
    def _every_severity(cls, value: dict[Severity, object]) -> dict[Severity, object]:
        missing = [severity.value for severity in Severity if severity not in value]
        if missing:
            raise ValueError(f"needs every severity; missing: {', '.join(missing)}")
        return value

    @field_validator("urgency")
    @classmethod
    def _urgency(cls, value: dict[Severity, str]) -> dict[Severity, str]:
        bad = sorted(v for v in value.values() if v not in ("very-low", "low", "normal", "high"))
        if bad:
            raise ValueError(f"unknown urgency {', '.join(bad)}: use very-low, low, normal, high")
        return value


TEMPLATE_FIELDS = ("title", "severity", "place", "lead", "time", "alert_id")
"""What a template parameter may say: `{title}` (the alert's title), `{severity}` (危急, 警告,
注意, 提示), `{place}` (where: address and camera or sensor; "" if none), `{lead}` (what the
notice asks or tells first: 派单：请于12:31前到场处置, 督办：…; "" for a plain alert), `{time}`
(local HH:MM), `{alert_id}`."""


class CloudSection(Section):
    """An account at a cloud communications vendor (Aliyun or Tencent Cloud) and the approved
    template messages are sent with."""

    provider: Literal["", "aliyun", "tencent"] = Field(
        "", description="`aliyun` or `tencent`; empty: the channel is not set up."
    )
    access_key_id: str = Field("", description="Aliyun AccessKey ID, or Tencent Cloud SecretId.")
    access_key_secret: SecretStr = Field(
        SecretStr(""), description="Aliyun AccessKey secret, or Tencent Cloud SecretKey."
    )
    endpoint: str = Field(
        "",
        description="API host (and port); empty: the vendor's public endpoint. Tests and "
        "private deployments set it.",
    )
    protocol: Literal["https", "http"] = Field("https", description="`http` only for tests.")
    region: str = Field("ap-guangzhou", description="Tencent Cloud region (Aliyun ignores it).")
    app_id: str = Field(
        "", description="Tencent Cloud SmsSdkAppId / VoiceSdkAppid (Aliyun needs none)."
    )
    template: str = Field(
        "",
        description="Approved template: Aliyun TemplateCode / TtsCode (`SMS_…`, `TTS_…`), or "
        "Tencent Cloud TemplateId.",
    )
    params: dict[str, str] = Field(
        default_factory=lambda: {"severity": "{severity}", "title": "{title}", "time": "{time}"},
        description="Template parameters: name → text with `{title}`, `{severity}`, `{place}`, "
        "`{lead}`, `{time}`, `{alert_id}`. Aliyun sends them by name; Tencent Cloud templates are "
        "positional, so name them 1, 2, 3… (sent in that order).",
    )
    max_param_chars: int = Field(
        20,
        ge=1,
        le=500,
        description="Longer parameter values are cut to this many characters (vendors refuse "
        "templates whose variables are too long; see the template rules in the console).",
    )

    @field_validator("params")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            try:
                text.format(**{field: "" for field in TEMPLATE_FIELDS})
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"parameter {name!r}: {exc} is not one of "
                    f"{', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
                ) from None
        return value

    @model_validator(mode="after")
    def _complete(self) -> "CloudSection":
        if not self.provider:
            return self
        missing = [
            name
            for name, value in (
                ("access_key_id", self.access_key_id),
                ("access_key_secret", self.access_key_secret.get_secret_value()),
                ("template", self.template),
                ("app_id", self.app_id if self.provider == "tencent" else "-"),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"provider {self.provider} needs {', '.join(missing)}")
        if self.provider == "tencent" and not all(name.isdigit() for name in self.params):
            raise ValueError("Tencent Cloud templates are positional: name the params 1, 2, 3…")
        return self


class SmsSection(CloudSection):
    """Text messages (`sms` in a channel list): Aliyun 短信服务 SendSms or Tencent Cloud 短信
    SendSms, to the recipient's mainland mobile number."""

    sign_name: str = Field("", description="Approved signature (签名), e.g. 守望平安.")

    @model_validator(mode="after")
    def _signed(self) -> "SmsSection":
        if self.provider and not self.sign_name:
            raise ValueError(f"provider {self.provider} needs sign_name")
        return self


class VoiceSection(CloudSection):
    """Voice call-outs reading a text template (`voice` in a channel list): Aliyun 语音服务
    SingleCallByTts or Tencent Cloud 语音消息 SendTtsVoice."""

    show_number: str = Field(
        "",
        description="Aliyun CalledShowNumber (a number you bought; empty: the public pool). "
        "Tencent Cloud shows the number bound to the application.",
    )
    play_times: int = Field(2, ge=1, le=3, description="How often the call reads the message.")


class ReceiptsSection(Section):
    """Reading the SMS and voice vendors' delivery receipts (回执) by polling their query APIs
    (no callback URL needed): whether a text reached the phone, whether a call was answered."""

    interval_s: float = Field(
        30.0,
        ge=0,
        description="How often the notifier asks the vendors for receipts; also how long before "
        "the same text or call is asked about again. 0 turns reading receipts off.",
    )
    window_s: float = Field(
        86_400.0,
        gt=0,
        le=30 * 86_400,
        description="How long after sending a receipt is looked for (Aliyun keeps details 30 "
        "days); a text or call without one by then stays `sent`.",
    )
    batch_size: int = Field(
        50,
        ge=1,
        le=1000,
        description="Most texts and calls looked up one by one (Aliyun) per channel and round; "
        "Tencent Cloud hands out up to 100 receipts a request instead.",
    )


class RobotsSection(Section):
    """Group robots (DingTalk, WeCom, Feishu): where their webhooks are."""

    dingtalk_url: str = Field(
        "https://oapi.dingtalk.com/robot/send", description="DingTalk robot webhook."
    )
    wecom_url: str = Field(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", description="WeCom robot webhook."
    )
    feishu_url: str = Field(
        "https://open.feishu.cn/open-apis/bot/v2/hook/",
        description="Feishu robot webhooks (the robot's token is appended).",
    )


class NotifierSettings(ServiceSettings):
    """Everything `shouwang notify run` reads."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    notify: NotifySection = Field(default_factory=NotifySection)
    notify_retry: RetrySection = Field(default_factory=RetrySection)
    notify_webpush: WebPushSection = Field(default_factory=WebPushSection)
    notify_sms: SmsSection = Field(default_factory=SmsSection)
    notify_voice: VoiceSection = Field(default_factory=VoiceSection)
    notify_receipts: ReceiptsSection = Field(default_factory=ReceiptsSection)
    notify_robots: RobotsSection = Field(default_factory=RobotsSection)
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
