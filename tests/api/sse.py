"""A small Server-Sent Events reader over httpx, for the live-feed tests."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    """One event of the stream."""

    event: str
    id: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


class FeedReader:
    """Reads the live feed of one viewer; `next()` returns the next event (ignoring pings)."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        after: str | None = None,
        last_event_id: str | None = None,
    ) -> None:
        extra = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.client = httpx.Client(
            base_url=base_url, headers={**headers, **extra}, timeout=httpx.Timeout(10, read=5)
        )
        self.context = self.client.stream(
            "GET", "/api/feed", params={"after": after} if after else None
        )
        self.response = self.context.__enter__()
        assert self.response.status_code == 200, self.response.read()
        assert self.response.headers["content-type"].startswith("text/event-stream")
        self.lines: Iterator[str] = self.response.iter_lines()

    def next(self) -> Event:
        fields: dict[str, str] = {}
        data: list[str] = []
        for line in self.lines:
            if not line:
                if data or fields:
                    return Event(fields.get("event", "message"), fields.get("id"), "\n".join(data))
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
        raise EOFError("the feed ended")

    def next_alert(self) -> Event:
        """The next `alert` event (ready events skipped)."""
        while True:
            event = self.next()
            if event.event != "ready":
                return event

    def timed(self) -> tuple[Event, float]:
        start = time.monotonic()
        return self.next_alert(), time.monotonic() - start

    def close(self) -> None:
        self.context.__exit__(None, None, None)
        self.client.close()

    def __enter__(self) -> "FeedReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
