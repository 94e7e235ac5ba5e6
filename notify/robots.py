"""Group robots of the office apps people use here, sent over HTTP with their signing:
DingTalk (钉钉, `dingtalk://[SECRET@]TOKEN[/PHONE…]/`: timestamp and HMAC-SHA256 sign in the
query), WeCom (企业微信, `wecombot://KEY[/PHONE…]`: the key in the URL) and Feishu (飞书,
`feishu://TOKEN[/SECRET]`: timestamp and sign in the body). Each answers HTTP 200 with an
error code in the body; the code says whether trying again can help."""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from notify.channel import Message, Result, Target
from notify.settings import RobotsSection
from records.notifications import DeliveryError

ROBOT_CHANNELS = ("dingtalk", "wecombot", "feishu")

DINGTALK_RETRY = frozenset({-1, 130101, 410100})
"""系统繁忙; send too fast (20 a minute, then 10 minutes' pause)."""
WECOM_RETRY = frozenset({-1, 45009})
"""系统繁忙; api freq out of limit (20 a minute)."""
FEISHU_RETRY = frozenset({11232, 99991400})
"""frequency limited; request trigger frequency limit."""
BUSY = -1
"""系统繁忙 (DingTalk, WeCom): retried as the robot's trouble, the other codes as throttling."""


class RobotUrlError(ValueError):
    """A robot URL that cannot be used; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Request:
    """What to post where, and how to read the answer's code."""

    url: str
    params: dict[str, str]
    body: dict[str, Any]
    code_field: str
    retryable: frozenset[int]


def _parts(address: str) -> tuple[str, str, list[str]]:
    parts = urlsplit(address)
    userinfo, _, token = parts.netloc.rpartition("@")  # as written: hostname lowers case
    if not token:
        raise RobotUrlError(f"{parts.scheme}:// URL without a token or key")
    path = [unquote(p) for p in parts.path.split("/") if p]
    return unquote(userinfo), unquote(token), path


def _text(message: Message) -> str:
    return f"{message.title}\n{message.body}"


def sign(timestamp: str, secret: str, *, feishu: bool = False) -> str:
    """Base64 HMAC-SHA256 of `timestamp\\nsecret`: DingTalk keys it with the secret, Feishu
    keys it with that string itself over an empty message."""
    string = f"{timestamp}\n{secret}".encode()
    if feishu:
        digest = hmac.new(string, b"", hashlib.sha256).digest()
    else:
        digest = hmac.new(secret.encode(), string, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk(section: RobotsSection, address: str, message: Message, now: float) -> Request:
    """A DingTalk text message; phone numbers in the URL are @-mentioned."""
    secret, token, phones = _parts(address)
    params = {"access_token": token}
    if secret:
        timestamp = str(int(now * 1000))
        params |= {"timestamp": timestamp, "sign": sign(timestamp, secret)}
    mentions = "".join(f" @{phone}" for phone in phones)
    body = {
        "msgtype": "text",
        "text": {"content": _text(message) + mentions},
        "at": {"atMobiles": phones, "isAtAll": False},
    }
    return Request(section.dingtalk_url, params, body, "errcode", DINGTALK_RETRY)


def wecom(section: RobotsSection, address: str, message: Message, now: float) -> Request:
    """A WeCom group robot text message; phone numbers in the URL are @-mentioned."""
    _, key, phones = _parts(address)
    text: dict[str, Any] = {"content": _text(message)}
    if phones:
        text["mentioned_mobile_list"] = phones
    body = {"msgtype": "text", "text": text}
    return Request(section.wecom_url, {"key": key}, body, "errcode", WECOM_RETRY)


def feishu(section: RobotsSection, address: str, message: Message, now: float) -> Request:
    """A Feishu custom robot text message, signed when the URL has the secret."""
    _, token, rest = _parts(address)
    body: dict[str, Any] = {"msg_type": "text", "content": {"text": _text(message)}}
    if rest:
        timestamp = str(int(now))
        body = {"timestamp": timestamp, "sign": sign(timestamp, rest[0], feishu=True)} | body
    url = section.feishu_url.rstrip("/") + "/" + token
    return Request(url, {}, body, "code", FEISHU_RETRY)


BUILDERS: dict[str, Callable[[RobotsSection, str, Message, float], Request]] = {
    "dingtalk": dingtalk,
    "wecombot": wecom,
    "feishu": feishu,
}


def classify(request: Request, response: httpx.Response) -> Result:
    """What the robot's answer means."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        error = f"HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code == 429:
            return Result.retry(error, DeliveryError.THROTTLED)
        if response.status_code == 408 or response.status_code >= 500:
            return Result.retry(error, DeliveryError.UNAVAILABLE)
        return Result.give_up(error, DeliveryError.ROBOT_REFUSED)
    code = answer.get(request.code_field)
    if code == 0 and response.is_success:
        return Result.sent()
    error = f"{request.code_field} {code}: {answer.get('errmsg') or answer.get('msg') or ''}"
    if code in request.retryable or response.status_code == 429:
        reason = DeliveryError.UNAVAILABLE if code == BUSY else DeliveryError.THROTTLED
        return Result.retry(error, reason)
    if response.status_code >= 500:
        return Result.retry(error, DeliveryError.UNAVAILABLE)
    return Result.give_up(error, DeliveryError.ROBOT_REFUSED)


class RobotChannel:
    """DingTalk, WeCom and Feishu group robots, over one connection pool (thread-safe)."""

    def __init__(
        self, section: RobotsSection, timeout_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.section = section
        self.clock = clock
        self.client = httpx.Client(timeout=timeout_s)

    def send(self, message: Message, target: Target) -> Result:
        """Post `message` to the robot of `target.address`."""
        try:
            request = BUILDERS[target.channel](self.section, target.address, message, self.clock())
        except (KeyError, ValueError) as exc:
            error = f"not a robot URL ({target.channel}): {exc}"
            return Result.give_up(error, DeliveryError.INVALID_CHANNEL)
        try:
            response = self.client.post(request.url, params=request.params, json=request.body)
        except httpx.HTTPError as exc:
            return Result.retry(f"{type(exc).__name__}: {exc}"[:500], DeliveryError.UNAVAILABLE)
        return classify(request, response)
