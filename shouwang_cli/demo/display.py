"""The demo's live terminal view: alerts as the rules raise them, events as they arrive."""

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from shouwang_cli.demo.inbox import Inbox

SEVERITY_STYLE = {"critical": "bold red", "high": "yellow", "medium": "cyan", "low": "dim"}


@dataclass
class StreamRow:
    """One events-stream entry, summarised for a table row."""

    time: str
    kind: str
    what: str
    source: str
    detail: str


def summarise(fields: dict[str, str]) -> StreamRow:
    """A table row for an events-stream entry."""
    kind = fields.get("kind", "?")
    received = datetime.fromtimestamp(int(fields.get("received_ms", "0")) / 1000)
    what = " ".join(p for p in (fields.get("type"), fields.get("phase")) if p) or kind
    detail = ""
    if kind == "event":
        payload = json.loads(fields["payload"])
        parts = [f"zone {payload['zone']}"] if payload.get("zone") else []
        parts += [f"track {payload['track_id']}"] if payload.get("track_id") is not None else []
        parts += [f"{k} {v}" for k, v in payload.get("attributes", {}).items()]
        parts.append(f"conf {payload['confidence']:.2f}")
        detail = ", ".join(parts)
    elif kind == "sensor":
        payload = json.loads(fields["payload"])
        parts = [f"value {json.dumps(payload['value'])}"]
        if payload.get("battery_pct") is not None:
            parts.append(f"battery {payload['battery_pct']:.0f}%")
        if payload.get("attributes", {}).get("repeated"):
            parts.append("repeat")
        detail = ", ".join(parts)
    return StreamRow(received.strftime("%H:%M:%S"), kind, what, fields.get("source", ""), detail)


@dataclass
class LiveFeed:
    """Follows the demo's events and alerts streams from where they were at the start."""

    client: redis.Redis
    inbox: Inbox
    events_stream: str
    alerts_stream: str
    deadletter_stream: str
    header: str
    rows: deque[StreamRow] = field(default_factory=lambda: deque(maxlen=8))
    alerts: dict[int, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    last_ids: dict[str, str] = field(default_factory=dict)

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

    def _event(self, fields: dict[str, str]) -> None:
        row = summarise(fields)
        key = row.what if row.kind == "event" else row.kind
        self.counts[key] = self.counts.get(key, 0) + 1
        if row.kind not in {"snapshot", "clip", "status"}:  # counted, not listed
            self.rows.appendleft(row)

    def _alert(self, fields: dict[str, str]) -> None:
        alert = json.loads(fields.get("alert", "{}"))
        alert_id = int(fields["alert_id"])
        if alert_id not in self.alerts:
            self.counts["alerts raised"] = self.counts.get("alerts raised", 0) + 1
        self.alerts[alert_id] = {**alert, "change": fields.get("change", "")}

    def render(self) -> Group:
        """The panel and tables to show."""
        alerts = Table(expand=True, title="Alerts raised by the rules (newest first)")
        for column in ("#", "severity", "title", "status", "events", "last change", "snapshot"):
            alerts.add_column(column, overflow="fold")
        for alert_id in sorted(self.alerts, reverse=True)[:8]:
            a = self.alerts[alert_id]
            alerts.add_row(
                str(alert_id),
                a.get("severity", ""),
                a.get("title", ""),
                a.get("status", ""),
                str(a.get("event_count", "")),
                a.get("change", ""),
                "yes" if a.get("snapshot_path") else "-",
                style=SEVERITY_STYLE.get(a.get("severity", ""), ""),
            )
        events = Table(expand=True, title="Events arriving from the edge agent (newest first)")
        for column in ("time", "kind", "what", "source", "detail"):
            events.add_column(column, overflow="fold")
        for row in self.rows:
            style = "bold red" if "fall" in row.what else ("yellow" if row.kind == "event" else "")
            events.add_row(row.time, row.kind, row.what, row.source, row.detail, style=style)
        phones = Table(expand=True, title="Notifications delivered to people (newest first)")
        for column in ("time", "to", "title", "message"):
            phones.add_column(column, overflow="fold")
        for message in list(self.inbox.messages)[:6]:
            phones.add_row(message.time, message.recipient, message.title, message.body[:120])
        self.counts["notifications delivered"] = self.inbox.count
        dead = self.client.xlen(self.deadletter_stream)
        totals = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "waiting…"
        summary = f"{self.header}\n[b]so far[/b] {totals} · dead letters {dead}"
        return Group(Panel(summary, title="守望 demo"), alerts, phones, events)
