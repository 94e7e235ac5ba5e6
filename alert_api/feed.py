"""The live feed: Server-Sent Events of alert changes the viewer may see, read from the alerts
stream. Each event's id is its stream entry id, so a reconnecting browser (Last-Event-ID) or a
page that listed alerts first (`?after=<feed_cursor>`) gets every change since, none lost."""

import json
import time
from collections.abc import AsyncIterator
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from alert_api.alert_views import alert_out_from_summary
from alert_api.context import AppContext
from alert_api.viewer import Context, CurrentViewer, Viewer, reload_viewer
from records.feed import AlertChange

router = APIRouter(tags=["live feed"])

ENTRY_ID = r"^\d{1,20}-\d{1,20}$"


def feed_cursor(context: AppContext) -> str:
    """The id of the newest entry of the alerts stream now (`0-0` if empty)."""
    newest = context.redis.xrevrange(context.settings.api.alerts_stream, count=1)
    if not newest:
        return "0-0"
    entry_id = newest[0][0]
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def _entry_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


async def _trimmed_after(client: aioredis.Redis, stream: str, cursor: str) -> bool:
    """Whether entries after `cursor` may have been trimmed away (the reader must reload):
    entries were removed and the oldest one kept is newer than the cursor."""
    if not await client.exists(stream):
        return False
    info = await client.xinfo_stream(stream)
    removed = int(info.get("entries-added", 0)) > int(info["length"])
    first = info.get("first-entry")
    deleted = info.get("max-deleted-entry-id") or "0-0"
    if _entry_key(cursor) < _entry_key(deleted):
        return True
    return removed and first is not None and _entry_key(cursor) < _entry_key(first[0])


def _event(context: AppContext, entry_id: str, change: AlertChange) -> ServerSentEvent:
    payload = {
        "change": change.change.value,
        "at": change.at.isoformat(),
        "alert": alert_out_from_summary(context, change.alert).model_dump(mode="json"),
    }
    return ServerSentEvent(data=json.dumps(payload, ensure_ascii=False), event="alert", id=entry_id)


async def changes(
    context: AppContext, request: Request, viewer: Viewer, start: str | None
) -> AsyncIterator[ServerSentEvent]:
    """The viewer's alert changes after `start` (now, if None), until they disconnect."""
    api = context.settings.api
    client = aioredis.Redis.from_url(context.settings.redis.url, decode_responses=True)
    try:
        newest = await client.xrevrange(api.alerts_stream, count=1)
        now_cursor = newest[0][0] if newest else "0-0"
        cursor = start or now_cursor
        if start is not None and await _trimmed_after(client, api.alerts_stream, start):
            # Changes were lost to the stream's cap: the page must list the alerts again.
            yield ServerSentEvent(data="{}", event="reset", id=now_cursor, retry=3000)
            return
        yield ServerSentEvent(
            data=json.dumps({"cursor": cursor}), event="ready", id=cursor, retry=3000
        )
        recheck_at = time.monotonic() + api.feed_recheck_s
        while not await request.is_disconnected():
            batches = await client.xread(
                {api.alerts_stream: cursor}, count=200, block=api.feed_block_ms
            )
            for _stream, entries in batches or []:
                for entry_id, fields in entries:
                    cursor = entry_id
                    try:
                        change = AlertChange.from_fields(fields)
                    except (KeyError, ValueError):
                        continue
                    if viewer.scope.sees(change.area_id, change.person_ids):
                        yield _event(context, entry_id, change)
            if time.monotonic() >= recheck_at:
                refreshed = await run_in_threadpool(reload_viewer, context, viewer)
                if refreshed is None:
                    yield ServerSentEvent(data="{}", event="signed_out")
                    return
                viewer, recheck_at = refreshed, time.monotonic() + api.feed_recheck_s
    finally:
        await client.aclose()


@router.get(
    "/api/feed",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_feed(
    request: Request,
    context: Context,
    viewer: CurrentViewer,
    after: Annotated[
        str | None,
        Query(pattern=ENTRY_ID, description="Start after this entry (a list's `feed_cursor`)."),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID", pattern=ENTRY_ID, description="Set by reconnecting browsers."
        ),
    ] = None,
) -> EventSourceResponse:
    """Server-Sent Events: `ready` (the starting position), then one `alert` event per change
    of an alert the viewer may see (`{change, at, alert}`), ids being stream entry ids;
    `reset` when changes after the given position are gone (list again, then reconnect), and
    `signed_out` when the session ended."""
    start = last_event_id or after
    return EventSourceResponse(
        changes(context, request, viewer, start), ping=context.settings.api.feed_ping_s
    )
