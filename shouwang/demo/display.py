"""The demo's live terminal view: what arrives on the events stream, as it arrives."""

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

import redis
from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from shouwang.redis_keys import DEADLETTER_STREAM, EVENTS_STREAM


@dataclass
class StreamRow:
    """One stream entry, summarised for a table row."""

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
        attrs = payload.get("attributes", {})
        parts = [f"zone {payload['zone']}"] if payload.get("zone") else []
        parts += [f"track {payload['track_id']}"] if payload.get("track_id") is not None else []
        parts += [f"{k} {v}" for k, v in attrs.items()]
        parts.append(f"conf {payload['confidence']:.2f}")
        detail = ", ".join(parts)
    elif kind == "snapshot":
        detail = f"{fields.get('path')} ({int(fields.get('bytes', 0)) // 1024} KiB)"
    return StreamRow(received.strftime("%H:%M:%S"), kind, what, fields.get("source", ""), detail)


@dataclass
class LiveFeed:
    """Follows the events stream from where it was when the demo started."""

    client: redis.Redis
    header: str
    rows: deque[StreamRow] = field(default_factory=lambda: deque(maxlen=18))
    counts: dict[str, int] = field(default_factory=dict)
    last_id: str = "$"

    def poll(self, block_ms: int = 500) -> None:
        """Read new entries (waiting up to `block_ms`)."""
        reply = self.client.xread({EVENTS_STREAM: self.last_id}, count=200, block=block_ms)
        for _, entries in reply or []:
            for entry_id, raw in entries:
                self.last_id = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                fields = {k.decode(): v.decode() for k, v in raw.items()}
                row = summarise(fields)
                key = row.what if row.kind == "event" else row.kind
                self.counts[key] = self.counts.get(key, 0) + 1
                if row.kind != "snapshot":  # counted, not listed: they follow their event
                    self.rows.appendleft(row)

    def render(self) -> Group:
        """The panel and table to show."""
        table = Table(expand=True, title="Arriving on the events stream (newest first)")
        for column in ("time", "kind", "what", "source", "detail"):
            table.add_column(column, overflow="fold")
        for row in self.rows:
            style = "bold red" if "fall" in row.what else ("yellow" if row.kind == "event" else "")
            table.add_row(row.time, row.kind, row.what, row.source, row.detail, style=style)
        dead = self.client.xlen(DEADLETTER_STREAM)
        totals = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "waiting…"
        summary = f"{self.header}\n[b]so far[/b] {totals} · dead letters {dead}"
        return Group(Panel(summary, title="守望 demo"), table)
