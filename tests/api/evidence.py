"""An evidence clip beside an alert's snapshot, as ingest stores it (H.264 made by the edge's
own encoder from a few seconds of moving frames) and the rules engine gives it to the alert."""

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import redis
from sqlalchemy.orm import Session, sessionmaker

from edge.config import ClipConfig
from edge.evidence import BufferedFrame, ClipJob, buffer_jpeg, encode_clip
from records.alerts import Alert
from records.base import utcnow
from records.feed import AlertChange, Change
from records.outbox import OutputStreams, add_output, publish_pending

SECONDS = 4.0


@cache
def clip_mp4() -> bytes:
    """A 4 s clip at 5 fps: a bright square crossing a grey room."""
    config = ClipConfig()
    start = datetime(2026, 12, 3, 21, 40, tzinfo=UTC)
    frames = []
    for i in range(int(SECONDS * 5) + 1):
        image = np.full((240, 320, 3), 90, np.uint8)
        image[100:140, 10 + i * 14 : 50 + i * 14] = 230
        frames.append(BufferedFrame(start + timedelta(seconds=i / 5), buffer_jpeg(image, config)))
    return encode_clip(ClipJob("evt-clip-test", "s1", "cam-1", tuple(frames)), config).video_bytes()


def store_clip(
    sessions: sessionmaker[Session],
    snapshot_dir: Path,
    alert_id: int,
    client: redis.Redis,
    streams: OutputStreams,
) -> Path:
    """Write the clip beside the alert's snapshot, make it the alert's clip and announce it
    on the live feed (change `clip`); return its file."""
    with sessions.begin() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.snapshot_path
        path = (snapshot_dir / alert.snapshot_path).with_suffix(".mp4")
        path.write_bytes(clip_mp4())
        alert.clip_path = path.relative_to(snapshot_dir).as_posix()
        session.flush()
        add_output(session, AlertChange.of(alert, Change.CLIP, utcnow()))
    publish_pending(sessions, client, streams)
    return path
