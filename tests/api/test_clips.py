"""Evidence clips through the API: a signed URL once the clip is stored, served as video/mp4
with range requests, to the people who may see the alert only."""

import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from tests.api.builders import Users, bearer, raise_alert
from tests.api.evidence import clip_mp4, store_clip


def test_the_clip_is_linked_once_stored_and_served_in_ranges(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    snapshots = context.settings.api.snapshot_dir
    alert_id = raise_alert(sessions, redis_client, streams, snapshot_dir=snapshots)
    other = raise_alert(sessions, redis_client, streams, snapshot_dir=snapshots)
    headers = bearer(context, village.grid1_worker)
    assert client.get(f"/api/alerts/{alert_id}", headers=headers).json()["clip_url"] is None
    store_clip(sessions, snapshots, alert_id, redis_client, streams)
    url = client.get(f"/api/alerts/{alert_id}", headers=headers).json()["clip_url"]
    assert url and url.startswith(f"/api/alerts/{alert_id}/clips/")
    listed = client.get("/api/alerts", headers=headers).json()["items"]
    assert {a["id"]: a["clip_url"] for a in listed} == {alert_id: url, other: None}

    whole = client.get(url, headers=headers)
    assert whole.status_code == 200 and whole.content == clip_mp4()
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(url, headers={**headers, "Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == clip_mp4()[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(clip_mp4())}"

    signature = url.rsplit("/", 1)[1]
    store_clip(sessions, snapshots, other, redis_client, streams)
    assert client.get(f"/api/alerts/{other}/clips/{signature}", headers=headers).status_code == 404
    assert (
        client.get(f"/api/alerts/{alert_id}/clips/{'0' * 32}", headers=headers).status_code == 404
    )
    assert client.get(url).status_code == 401  # signed, and still needs a user
    outsider = bearer(context, village.grid2_worker)
    assert client.get(url, headers=outsider).status_code == 404
