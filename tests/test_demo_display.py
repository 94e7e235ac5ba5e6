"""The demo's terminal view: at 80×24 it fits, alerts first, in words and the site's time; on
output that is not a terminal it prints plain lines."""

import io
import json
import uuid
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import redis
from rich.console import Console

from shouwang_cli.demo.display import LiveFeed, plain
from shouwang_cli.demo.inbox import Inbox
from tests.records.redis_fixtures import REDIS_URL

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECEIVED_MS = 1_764_733_200_000  # 2025-12-03 03:40:00 UTC, 11:40:00 in Shanghai


@pytest.fixture
def feed() -> Iterator[LiveFeed]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"test-display-{uuid.uuid4().hex[:8]}"
    inbox = Inbox()
    inbox.zone = SHANGHAI
    live = LiveFeed(
        client,
        inbox=inbox,
        events_stream=f"{prefix}:events",
        alerts_stream=f"{prefix}:alerts",
        deadletter_stream=f"{prefix}:dead",
        header="yard and room cameras on sample video; Ctrl-C stops everything",
        zone=SHANGHAI,
    )
    live.last_ids = {live.events_stream: "0", live.alerts_stream: "0"}
    yield live
    client.delete(live.events_stream, live.alerts_stream)
    client.close()


def fill(feed: LiveFeed) -> None:
    """Twelve alerts, a notification and forty events, as the streams carry them."""
    for n in range(1, 13):
        alert = {"severity": "critical" if n == 12 else "high", "status": "new"}
        alert |= {"title": f"老人跌倒：王秀英 {n}", "event_count": n}
        feed.client.xadd(
            feed.alerts_stream, {"alert_id": n, "change": "created", "alert": json.dumps(alert)}
        )
    for n in range(40):
        payload = {"zone": "floor", "confidence": 0.68, "camera_name": "堂屋", "zone_name": "地上"}
        fields = {"kind": "event", "type": "fall", "phase": "end" if n % 2 else "start"}
        fields |= {"source": "cam-room", "received_ms": str(RECEIVED_MS + n)}
        feed.client.xadd(feed.events_stream, {**fields, "payload": json.dumps(payload)})
    clip = {"kind": "clip", "source": "cam-room", "received_ms": str(RECEIVED_MS + 40)}
    feed.client.xadd(feed.events_stream, clip)
    feed.inbox.labels["wang-li"] = "王丽 (daughter)"
    feed.inbox.add("wang-li", {"title": "【危急】老人跌倒：王秀英", "message": "…"})
    feed.poll(block_ms=0)


def test_the_view_fits_80_by_24_alerts_first_in_words(feed: LiveFeed) -> None:
    fill(feed)
    console = Console(file=io.StringIO(), width=80, height=24, force_terminal=True)
    with console.capture() as captured:
        console.print(feed.render(24))
    lines = captured.get().rstrip("\n").splitlines()
    assert len(lines) <= 24, "\n".join(lines)
    assert all(console.measure(line).maximum <= 80 for line in lines)
    text = "\n".join(lines)
    assert text.index("Alerts") < text.index("Who was told") < text.index("From the edge")
    assert "老人跌倒：王秀英 12" in text and "危急" in text and "警告" in text  # newest, in words
    assert "fall ended" in text and "fall end:" not in text and "11:40:00" in text
    assert "堂屋" in text and "cam-room" not in text  # the camera's name, not its id
    assert feed.counts["fall ended"] == 20 and feed.counts["fall started"] == 20
    assert "evidence clips: 1" in feed.summary() and "clip:" not in feed.summary()


def test_plain_lines_when_the_output_is_not_a_terminal(feed: LiveFeed) -> None:
    fill(feed)
    out = io.StringIO()
    console = Console(file=out, width=80)
    assert not console.is_terminal
    plain(console, feed)
    lines = out.getvalue().splitlines()
    assert any(line.endswith("alert #1 警告 老人跌倒：王秀英 1 (new)") for line in lines)
    assert "11:40:00 fall started at 堂屋 (zone 地上, confidence 68%)" in lines
    assert lines[-1].endswith("told 王丽 (daughter): 【危急】老人跌倒：王秀英")
    assert "\x1b" not in out.getvalue()  # no terminal codes in a log
    plain(console, feed)
    assert len(out.getvalue().splitlines()) == len(lines), "each line once"
