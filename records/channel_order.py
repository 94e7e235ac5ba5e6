"""A person's channel order: the entries of `channels` (watch-list CSV 通知渠道, the API), each
a channel with an optional wait and minimum severity in brackets — `webpush`, `[60s] sms`,
`[2m critical] voice`. A step with a wait goes out that long after the notification unless
the alert was answered by then, or at once when every earlier step has failed."""

import re
from dataclasses import dataclass

from records.refusals import Refusal
from records.types import Severity

PHONE_CHANNELS = ("sms", "voice")
NAMED_CHANNELS = ("webpush", *PHONE_CHANNELS)
URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+")
URL_IN_TEXT = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://[^\s'\"]*")
STEP = re.compile(r"^\[([^\]]*)\]\s*(.*)$", re.DOTALL)
WAIT = re.compile(r"(\d{1,5})(s|m|秒|分钟?)")
MAX_WAIT_S = 24 * 3600
SEVERITY_NAMES = {s.value: s for s in Severity} | {
    "危急": Severity.CRITICAL,
    "紧急": Severity.HIGH,
    "注意": Severity.MEDIUM,
    "提示": Severity.LOW,
}


@dataclass(frozen=True, slots=True)
class ChannelStep:
    """One entry of a channel order."""

    channel: str
    """`webpush`, `sms`, `voice`, or a robot or apprise URL."""
    wait_s: int = 0
    """Seconds after the notification before this step goes out."""
    min_severity: Severity | None = None
    """Only for alerts at least this severe."""

    def applies(self, severity: Severity) -> bool:
        """Whether an alert of `severity` takes this step."""
        order = list(Severity)
        return self.min_severity is None or order.index(severity) >= order.index(self.min_severity)


def hide_urls(text: str) -> str:
    """`text` with every URL cut to its scheme (`dingtalk://…`): a robot's or apprise
    service's URL holds its token, key or password."""
    return URL_IN_TEXT.sub(lambda found: f"{found.group(1)}://…", text)


def parse_step(entry: str) -> ChannelStep:
    """Read one entry. Raises a `Refusal` (a ValueError) saying what is wrong."""
    text = entry.strip()
    wait_s, minimum = 0, None
    bracket = STEP.match(text)
    if bracket:
        for token in bracket.group(1).replace(",", " ").split():
            wait = WAIT.fullmatch(token.lower())
            if wait:
                wait_s = int(wait.group(1)) * (1 if wait.group(2) in ("s", "秒") else 60)
            elif token.lower() in SEVERITY_NAMES:
                minimum = SEVERITY_NAMES[token.lower()]
            else:
                raise Refusal("channel_step", token=token, entry=text)
        text = bracket.group(2).strip()
    if wait_s > MAX_WAIT_S:
        raise Refusal("channel_wait", entry=entry.strip())
    if text not in NAMED_CHANNELS and not URL.fullmatch(text):
        raise Refusal("channel", entry=text)
    return ChannelStep(text, wait_s, minimum)


def parse_order(entries: list[str]) -> list[ChannelStep]:
    """Read a whole channel order. Raises a `Refusal` naming the first wrong entry."""
    return [parse_step(entry) for entry in entries if entry.strip()]
