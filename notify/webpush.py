"""The Web Push channel: an encrypted (RFC 8291, aes128gcm) message signed with the deployment's
VAPID key (RFC 8292), sent to the browser's push service."""

import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid02
from pywebpush import WebPusher, WebPushException

from notify.channel import Message, Result, Target
from notify.settings import WebPushSection
from records.notifications import DeliveryError, VapidKeys

MAX_BODY_CHARS = 600
"""Push services take about 4 KB per message; a long body is cut to stay well inside."""
TOKEN_LIFETIME_S = 12 * 3600
"""VAPID tokens are signed for this long and reused until an hour before they expire."""


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def classify(response: requests.Response) -> Result:
    """What a push service's answer means (RFC 8030 and the services' documented codes)."""
    status = response.status_code
    reason = f"push service answered {status} {response.reason or ''}".strip()
    detail = response.text[:300].strip()
    error = f"{reason}: {detail}" if detail else reason
    if 200 <= status < 300:
        return Result.sent()
    if status in (404, 410):
        return Result.give_up(
            f"{error} (subscription expired)", DeliveryError.SUBSCRIPTION_GONE, gone=True
        )
    if status in (408, 429) or status >= 500:
        reason = DeliveryError.THROTTLED if status == 429 else DeliveryError.UNAVAILABLE
        return Result.retry(error, reason, _retry_after(response))
    if status == 403:
        return Result.give_up(
            f"{error} (made with another VAPID key? the page must resubscribe)",
            DeliveryError.PUSH_REFUSED,
        )
    return Result.give_up(error, DeliveryError.PUSH_REFUSED)


class WebPushChannel:
    """Sends Web Push messages; urgency and TTL follow the alert's severity."""

    def __init__(self, keys: VapidKeys, section: WebPushSection, timeout_s: float) -> None:
        self.section = section
        self.timeout_s = timeout_s
        self._vapid = Vapid02.from_pem(keys.private_key_pem.encode("ascii"))
        self._tokens: dict[str, tuple[dict[str, str], float]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def payload(self, message: Message) -> str:
        """The JSON the guardian page's service worker receives."""
        body = message.body
        if len(body) > MAX_BODY_CHARS:
            body = body[: MAX_BODY_CHARS - 1] + "…"
        return json.dumps(
            {
                "title": message.title[:200],
                "body": body,
                "alert_id": message.alert_id,
                "job_id": message.job_id,
                "step": message.step,
                "severity": message.severity.value,
                "url": self.section.click_url.format(alert_id=message.alert_id),
                "created_at": message.created_at.isoformat(),
            },
            ensure_ascii=False,
        )

    def _authorization(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with self._lock:
            cached = self._tokens.get(audience)
            if cached is None or cached[1] - now < 3600:
                expires = now + TOKEN_LIFETIME_S
                claims = {"sub": self.section.subject, "aud": audience, "exp": int(expires)}
                cached = (self._vapid.sign(claims), expires)
                self._tokens[audience] = cached
            return dict(cached[0])

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def allowed(self, endpoint: str) -> bool:
        """Whether `endpoint` is at one of the configured push services."""
        hosts = self.section.endpoint_hosts
        host = (urlsplit(endpoint).hostname or "").lower()
        return not hosts or any(
            host == allowed or (allowed.startswith(".") and host.endswith(allowed))
            for allowed in hosts
        )

    def send(self, message: Message, target: Target) -> Result:
        """Encrypt and post the message to the subscription's push service."""
        if not target.keys:
            return Result.give_up("push subscription without keys", DeliveryError.PUSH_REFUSED)
        if not self.allowed(target.address):
            return Result.give_up(
                f"push endpoint host {urlsplit(target.address).hostname!r} is not in "
                "notify_webpush.endpoint_hosts",
                DeliveryError.PUSH_REFUSED,
            )
        info: dict[str, Any] = {"endpoint": target.address, "keys": dict(target.keys)}
        headers = {
            "Urgency": self.section.urgency[message.severity],
            **self._authorization(target.address),
        }
        try:
            pusher = WebPusher(info, requests_session=self._session())
            response = pusher.send(
                self.payload(message),
                headers,
                ttl=self.section.ttl_s[message.severity],
                content_encoding="aes128gcm",
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            return Result.retry(
                f"push service not reachable: {type(exc).__name__}: {exc}",
                DeliveryError.UNAVAILABLE,
            )
        except (WebPushException, ValueError, TypeError) as exc:
            return Result.give_up(f"push subscription unusable: {exc}", DeliveryError.PUSH_REFUSED)
        assert isinstance(response, requests.Response)
        return classify(response)
