"""Builders for notification tests: jobs, real browser push subscriptions, a settable clock."""

import base64
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from records.feed import NotificationJob

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
"""10:00 in Shanghai: outside any quiet hours the tests set."""
_ids = itertools.count(1)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Browser:
    """A browser's push subscription with the private half it keeps (to decrypt messages)."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    def subscription(self) -> dict[str, object]:
        """What `PushSubscription.toJSON()` gives the page."""
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        keys = {"p256dh": b64url(public), "auth": b64url(self.auth)}
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": keys}

    def json(self) -> str:
        return json.dumps(self.subscription())


def browser(endpoint: str) -> Browser:
    """A new browser subscription at `endpoint` with real keys."""
    import os

    return Browser(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


def job(
    *channels: str,
    recipient_type: str = "guardian",
    recipient_id: int = 1,
    severity: str = "critical",
    alert_id: int | None = None,
    step: int = 0,
    phone: str = "13800000001",
    stage: str = "",
) -> NotificationJob:
    """A notification job as the rules engine publishes it (`stage`: the step unless given)."""
    alert = alert_id if alert_id is not None else next(_ids)
    return NotificationJob(
        job_id=f"{alert}:{stage or step}:{recipient_type}:{recipient_id}",
        alert_id=alert,
        step=step,
        severity=severity,
        title="王奶奶家 跌倒",
        body="【紧急】王奶奶家 跌倒\n地点：碧江区 灯塔村 3组\n时间：10:00",
        place="碧江区 灯塔村 3组",
        lead="",
        recipient_type=recipient_type,
        recipient_id=recipient_id,
        recipient_name="王小红",
        role="guardian",
        phone=phone,
        channels=channels,
        created_at=T0,
    )


def publish(client: redis.Redis, stream: str, *jobs: NotificationJob) -> list[str]:
    """XADD the jobs (at least once: a test may publish one twice)."""
    return [str(client.xadd(stream, {**j.to_fields(), "seq": "1"})) for j in jobs]
