"""The live feed (SSE) on a real server: new alerts arrive within a second, each viewer gets
only their scope, and reconnecting with Last-Event-ID (or a list's feed cursor) loses nothing."""

import time

import httpx
import redis
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from tests.api.builders import GRID_2, Users, bearer, raise_alert
from tests.api.sse import FeedReader


def test_a_new_alert_arrives_within_a_second_in_scope_only(
    live_server: str,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    with (
        FeedReader(live_server, bearer(context, village.town_officer)) as officer,
        FeedReader(live_server, bearer(context, village.li_hong)) as guardian,
    ):
        assert officer.next().event == "ready" and guardian.next().event == "ready"
        start = time.monotonic()
        wang = raise_alert(sessions, redis_client, streams)
        event = officer.next_alert()
        assert time.monotonic() - start < 1.0
        payload = event.json()
        assert event.event == "alert" and payload["change"] == "created"
        assert payload["alert"]["id"] == wang and payload["alert"]["area_name"] == "马岩村第一网格"
        li = raise_alert(sessions, redis_client, streams, person_codes=("P002",), grid=GRID_2)
        assert guardian.next_alert().json()["alert"]["id"] == li  # never saw wang's
        assert officer.next_alert().json()["alert"]["id"] == li


def test_reconnecting_with_last_event_id_loses_nothing(
    live_server: str,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    headers = bearer(context, village.county_officer)
    first = raise_alert(sessions, redis_client, streams, title="first")
    with FeedReader(live_server, headers, after="0-0") as feed:
        seen = feed.next_alert()
    assert seen.json()["alert"]["id"] == first and seen.id
    # while disconnected: two new alerts and a transition
    second = raise_alert(sessions, redis_client, streams, title="second")
    third = raise_alert(sessions, redis_client, streams, title="third")
    acked = httpx.post(
        f"{live_server}/api/alerts/{first}/transitions",
        json={"to": "acknowledged", "version": 1},
        headers=headers,
    )
    assert acked.status_code == 200
    expected = [
        entry_id.decode() for entry_id, _ in redis_client.xrange(streams.alerts, f"({seen.id}", "+")
    ]
    assert len(expected) == 3
    with FeedReader(live_server, headers, last_event_id=seen.id) as feed:
        events = [feed.next_alert() for _ in range(3)]
    assert [e.id for e in events] == expected
    assert [(e.json()["alert"]["id"], e.json()["change"]) for e in events] == [
        (second, "created"),
        (third, "created"),
        (first, "transition"),
    ]
    assert events[2].json()["alert"]["status"] == "acknowledged"


def test_a_lists_feed_cursor_covers_the_gap_before_connecting(
    live_server: str,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    headers = bearer(context, village.grid1_worker)
    raise_alert(sessions, redis_client, streams)
    listed = httpx.get(f"{live_server}/api/alerts", headers=headers).json()
    assert len(listed["items"]) == 1
    later = raise_alert(sessions, redis_client, streams)  # between the list and the feed
    with FeedReader(live_server, headers, after=listed["feed_cursor"]) as feed:
        assert feed.next().json() == {"cursor": listed["feed_cursor"]}
        assert feed.next_alert().json()["alert"]["id"] == later


def test_a_trimmed_gap_tells_the_page_to_reload(
    live_server: str,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    for _ in range(3):
        raise_alert(sessions, redis_client, streams)
    oldest = redis_client.xrange(streams.alerts, count=1)[0][0].decode()
    redis_client.xtrim(streams.alerts, maxlen=1, approximate=False)
    with FeedReader(live_server, bearer(context, village.admin), last_event_id=oldest) as feed:
        assert feed.next().event == "reset"


def test_the_feed_ends_when_the_session_ends(
    live_server: str, context: AppContext, village: Users
) -> None:
    context.settings.api.feed_recheck_s = 0.2
    headers = bearer(context, village.grid1_worker)
    with FeedReader(live_server, headers) as feed:
        assert feed.next().event == "ready"
        assert httpx.post(f"{live_server}/api/auth/logout", headers=headers).status_code == 204
        assert feed.next().event == "signed_out"


def test_bad_positions_are_refused(live_server: str, context: AppContext, village: Users) -> None:
    headers = bearer(context, village.admin)
    bad = httpx.get(f"{live_server}/api/feed", params={"after": "$"}, headers=headers)
    assert bad.status_code == 422
    bad = httpx.get(f"{live_server}/api/feed", headers={**headers, "Last-Event-ID": "nope"})
    assert bad.status_code == 422
