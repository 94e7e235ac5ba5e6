"""The demo's live terminal view: alerts as the rules raise them, who was told, and what
arrives from the edge; drawn to fit the terminal (80×24 and up, alerts first), or as plain
lines when the output is not a terminal (a log file, a pipe)."""

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from records.types import SEVERITY_LABELS
from shouwang_cli.demo.inbox import Inbox

SEVERITY_STYLE = {"critical": "bold red", "high": "yellow", "medium": "cyan", "low": "dim"}
PHASES = {"start": "started", "update": "continues", "end": "ended"}
KINDS = {
    "sensor": "sensor readings",
    "snapshot": "snapshots",
    "clip": "evidence clips",
    "status": "edge status changes",
    "heartbeat": "heartbeats",
}
"""How the counts name entries that are not behaviour events."""
STATUSES = {
    "new": "new",
    "acknowledged": "acknowledged",
    "dispatched": "dispatched",
    "resolved": "resolved",
    "followed_up": "followed up",
    "archived": "archived",
    "false_alarm": "false alarm",
}


def words(type_: str) -> str:
    """A type key in words (`camera_offline` → `camera offline`)."""
    return type_.replace("_", " ")


@dataclass
class StreamRow:
    """One events-stream entry, summarised for a line."""

    time: str
    what: str
    source: str
    detail: str
    fall: bool


def summarise(fields: dict[str, str], zone: ZoneInfo) -> tuple[str, StreamRow]:
    """What an events-stream entry counts as, and its line (times in the site's zone)."""
    kind = fields.get("kind", "?")
    received = datetime.fromtimestamp(int(fields.get("received_ms", "0")) / 1000, zone)
    detail = ""
    source = fields.get("source", "")
    if kind == "event":
        payload = json.loads(fields["payload"])
        what = f"{words(fields.get('type', '?'))} {PHASES.get(fields.get('phase', ''), '')}"
        source = payload.get("camera_name") or source
        zone_name = payload.get("zone_name") or payload.get("zone")
        parts = [f"zone {zone_name}"] if zone_name else []
        parts.append(f"confidence {payload['confidence']:.0%}")
        detail = ", ".join(parts)
    elif kind == "sensor":
        payload = json.loads(fields["payload"])
        what = f"{words(fields.get('type', 'sensor'))} reading"
        source = payload.get("device_name") or source
        parts = [f"value {json.dumps(payload['value'])}"]
        if payload.get("battery_pct") is not None:
            parts.append(f"battery {payload['battery_pct']:.0f}%")
        if payload.get("attributes", {}).get("repeated"):
            parts.append("repeated")
        detail = ", ".join(parts)
    else:
        what = KINDS.get(kind, kind)
    counted = what.strip() if kind == "event" else KINDS.get(kind, kind)
    row = StreamRow(
        received.strftime("%H:%M:%S"),
        what.strip(),
        source,
        detail,
        "fall" in what,
    )
    return counted, row


@dataclass
class LiveFeed:
    """Follows the demo's events and alerts streams from where they were at the start."""

    client: redis.Redis
    inbox: Inbox
    events_stream: str
    alerts_stream: str
    deadletter_stream: str
    header: str
    zone: ZoneInfo
    rows: deque[StreamRow] = field(default_factory=lambda: deque(maxlen=20))
    alerts: dict[int, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    last_ids: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    """Plain lines of what happened since the last `take_lines` (for output that is not a
    terminal)."""
    _delivered: int = 0

    def __post_init__(self) -> None:
        self.last_ids = {self.events_stream: "$", self.alerts_stream: "$"}

    def poll(self, block_ms: int = 500) -> None:
        """Read new entries of both streams (waiting up to `block_ms`)."""
        reply = self.client.xread(self.last_ids, count=200, block=block_ms)
        for stream, entries in reply or []:
            for entry_id, fields in entries:
                self.last_ids[stream] = entry_id
                if stream == self.alerts_stream:
                    self._alert(fields)
                else:
                    self._event(fields)
        self.counts["notifications delivered"] = self.inbox.count
        for message in list(self.inbox.messages)[: self.inbox.count - self._delivered][::-1]:
            self.lines.append(f"{message.time} told {message.recipient}: {message.title}")
        self._delivered = self.inbox.count

    def _event(self, fields: dict[str, str]) -> None:
        counted, row = summarise(fields, self.zone)
        self.counts[counted] = self.counts.get(counted, 0) + 1
        if fields.get("kind") in {"event", "sensor"}:  # the others are counted, not listed
            self.rows.appendleft(row)
            detail = f" ({row.detail})" if row.detail else ""
            self.lines.append(f"{row.time} {row.what} at {row.source}{detail}")

    def _alert(self, fields: dict[str, str]) -> None:
        alert = json.loads(fields.get("alert", "{}"))
        alert_id = int(fields["alert_id"])
        change = fields.get("change", "")
        if alert_id not in self.alerts:
            self.counts["alerts raised"] = self.counts.get("alerts raised", 0) + 1
        self.alerts[alert_id] = {**alert, "change": change}
        if change in {"created", "reopened", "transition"}:
            now = datetime.now(self.zone).strftime("%H:%M:%S")
            severity = SEVERITY_LABELS.get(alert.get("severity", ""), "")
            status = STATUSES.get(alert.get("status", ""), "")
            self.lines.append(
                f"{now} alert #{alert_id} {severity} {alert.get('title', '')} ({status})"
            )

    def take_lines(self) -> list[str]:
        """The plain lines gathered since the last call."""
        taken, self.lines = self.lines, []
        return taken

    def summary(self) -> str:
        """The counts in words."""
        dead = self.client.xlen(self.deadletter_stream)
        totals = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "waiting…"
        return f"so far: {totals}; dead letters: {dead}"

    def render(self, height: int = 24) -> Group:
        """The view, fitted to `height` lines: the header, the alerts (most of the room), who
        was told, then the latest events."""
        alerts = Table(title="Alerts (newest first)", expand=True, box=None, pad_edge=False)
        for column, options in (
            ("#", {"width": 3, "justify": "right"}),
            ("level", {"width": 5}),
            ("alert", {"ratio": 1, "no_wrap": True}),
            ("status", {"width": 12, "no_wrap": True}),
            ("events", {"width": 6, "justify": "right"}),
        ):
            alerts.add_column(column, **options)
        room = max(height - 8, 6)
        shown_alerts = sorted(self.alerts, reverse=True)[: max(room // 2, 3)]
        for alert_id in shown_alerts:
            a = self.alerts[alert_id]
            alerts.add_row(
                str(alert_id),
                SEVERITY_LABELS.get(a.get("severity", ""), ""),
                a.get("title", ""),
                STATUSES.get(a.get("status", ""), ""),
                str(a.get("event_count", "")),
                style=SEVERITY_STYLE.get(a.get("severity", ""), ""),
            )
        left = room - len(shown_alerts)
        told = Table(title="Who was told", expand=True, box=None, pad_edge=False, show_header=False)
        told.add_column("time", width=8)
        told.add_column("to", width=14, no_wrap=True)
        told.add_column("message", ratio=1, no_wrap=True)
        for message in list(self.inbox.messages)[: max(left // 2, 1)]:
            told.add_row(message.time, message.recipient, message.title)
        left -= min(len(self.inbox.messages), max(left // 2, 1))
        events = Table(
            title="From the edge", expand=True, box=None, pad_edge=False, show_header=False
        )
        events.add_column("time", width=8)
        events.add_column("what", width=22, no_wrap=True)
        events.add_column("where", width=12, no_wrap=True)
        events.add_column("detail", ratio=1, no_wrap=True)
        for row in list(self.rows)[: max(left, 1)]:
            events.add_row(
                row.time, row.what, row.source, row.detail, style="bold red" if row.fall else ""
            )
        head = Text.from_markup(f"[b]守望 demo[/b] {self.header}", overflow="ellipsis")
        head.no_wrap = True
        return Group(
            head, Text(self.summary(), overflow="ellipsis", no_wrap=True), alerts, told, events
        )


def plain(console: Console, feed: LiveFeed) -> None:
    """Print what happened since the last call as plain lines."""
    for line in feed.take_lines():
        console.print(line, markup=False, highlight=False, soft_wrap=True)
