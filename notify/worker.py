"""One notifier: the intake stage (stream → planned deliveries), the send stage (due
deliveries → channels → delivery log) and the receipt stage (vendors' receipts → delivery log)
taking turns in one loop."""

import random
import threading
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import redis
import structlog
from sqlalchemy.orm import Session, sessionmaker

from notify.aliyun import AliyunSms, AliyunVoice
from notify.aliyun_receipts import AliyunSmsReceipts, AliyunVoiceReceipts
from notify.apprise_channel import AppriseChannel
from notify.channel import Channel, NotSetUp
from notify.consumer import JobConsumer
from notify.metrics import NotifierMetrics
from notify.receipt_poller import ReceiptPoller
from notify.receipts import LookUp, Pull
from notify.retry import Backoff
from notify.robots import ROBOT_CHANNELS, RobotChannel
from notify.sender import Sender
from notify.settings import NotifierSettings, SmsSection, VoiceSection
from notify.targets import SMS, VOICE, WEBPUSH
from notify.tencent import TencentSms, TencentVoice
from notify.tencent_receipts import TencentSmsReceipts
from notify.webpush import WebPushChannel
from records.base import utcnow
from records.db import TRANSIENT
from records.notifications import ensure_vapid_keys
from shouwang.service import run_rounds

log = structlog.get_logger("shouwang.notify")

SENDING_WAIT_S = 0.02
"""While deliveries are in flight, a round waits this long for one to finish (not for jobs)."""


def sms_channel(section: SmsSection, zone: ZoneInfo, timeout_s: float) -> Channel:
    """The configured SMS vendor's channel."""
    if section.provider == "aliyun":
        return AliyunSms(section, zone, timeout_s)
    if section.provider == "tencent":
        return TencentSms(section, zone, timeout_s)
    return NotSetUp("SMS", "notify_sms")


def voice_channel(section: VoiceSection, zone: ZoneInfo, timeout_s: float) -> Channel:
    """The configured voice vendor's channel."""
    if section.provider == "aliyun":
        return AliyunVoice(section, zone, timeout_s)
    if section.provider == "tencent":
        return TencentVoice(section, zone, timeout_s)
    return NotSetUp("Voice calls", "notify_voice")


def receipt_readers(
    settings: NotifierSettings, timeout_s: float
) -> tuple[dict[str, LookUp], dict[str, Pull]]:
    """The configured vendors' receipt readers by channel: looked up one by one (Aliyun SMS
    and voice) and pulled (Tencent Cloud SMS; its voice calls have no pull API)."""
    sms, voice = settings.notify_sms, settings.notify_voice
    lookups: dict[str, LookUp] = {}
    pulls: dict[str, Pull] = {}
    if sms.provider == "aliyun":
        lookups[SMS] = AliyunSmsReceipts(sms, timeout_s)
    elif sms.provider == "tencent":
        pulls[SMS] = TencentSmsReceipts(sms, timeout_s)
    if voice.provider == "aliyun":
        lookups[VOICE] = AliyunVoiceReceipts(voice, timeout_s)
    return lookups, pulls


class Notifier:
    """Reads jobs, plans deliveries, sends what is due, records every attempt and the
    vendors' receipts."""

    def __init__(
        self,
        settings: NotifierSettings,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[float, float], float] = random.uniform,
        webpush: Channel | None = None,
        apprise: Channel | None = None,
        metrics: NotifierMetrics | None = None,
    ) -> None:
        self.section = settings.notify
        self.metrics = metrics or NotifierMetrics()
        if webpush is None:
            keys = ensure_vapid_keys(sessions)
            webpush = WebPushChannel(keys, settings.notify_webpush, self.section.timeout_s)
        self.consumer = JobConsumer(self.section, client, sessions, self.metrics, clock)
        zone, timeout_s = ZoneInfo(self.section.timezone), self.section.timeout_s
        robots = RobotChannel(settings.notify_robots, timeout_s)
        channels: dict[str, Channel] = {
            WEBPUSH: webpush,
            SMS: sms_channel(settings.notify_sms, zone, timeout_s),
            VOICE: voice_channel(settings.notify_voice, zone, timeout_s),
        } | dict.fromkeys(ROBOT_CHANNELS, robots)
        self.sender = Sender(
            self.section,
            sessions,
            channels,
            apprise or AppriseChannel(timeout_s),
            Backoff(settings.notify_retry, rng),
            self.metrics,
            clock,
        )
        lookups, pulls = receipt_readers(settings, timeout_s)
        self.receipts = ReceiptPoller(
            settings.notify_receipts, sessions, lookups, pulls, self.metrics, clock
        )
        self._stop = threading.Event()

    def poll(self, block_ms: int | None = None) -> int:
        """One round: record receipts (and ask for more when due), send what is due, read and
        plan new jobs, send again. Waits up to `block_ms` (default: the setting) for new jobs
        when nothing is being sent, else up to `SENDING_WAIT_S` for an attempt to finish.
        Returns how much moved."""
        moved = self.receipts.poll()
        moved += self.sender.pump()
        block = self.section.block_ms if block_ms is None else block_ms
        sending = bool(moved or self.sender.in_flight)
        moved += self.consumer.consume(0 if sending else block)
        if sending and block:
            self.sender.wait(SENDING_WAIT_S)
        return moved + self.sender.pump()

    def run(self) -> None:
        """Work until `stop()`, then finish the attempts in flight and record the receipts in
        hand; back off (up to 30 s) while the database or Redis is away."""
        try:
            run_rounds(
                self.poll, self._stop, prepare=self.consumer.ensure_group, outage=TRANSIENT, log=log
            )
        finally:
            self.sender.drain()
            self.receipts.drain()

    def stop(self) -> None:
        """Ask `run` to return after the round in hand."""
        self._stop.set()
