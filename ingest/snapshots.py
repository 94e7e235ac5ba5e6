"""Evidence files: one JPEG snapshot per event under `<dir>/<site>/<YYYYMMDD>/<event_id>.jpg`,
and its clip beside it as `<event_id>.mp4`."""

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shouwang.contracts import Clip, Snapshot


class SnapshotTooLarge(ValueError):
    """The JPEG or MP4 is larger than the configured limit."""


class SnapshotStore:
    """Writes snapshots and clips atomically (temp file, fsync, rename): a crash never leaves
    half a file. Retention removes whole days, so a clip kept beside its snapshot goes with it."""

    def __init__(self, root: Path, max_bytes: int, max_clip_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_clip_bytes = max_clip_bytes

    def relative_path(self, snapshot: Snapshot, received: datetime) -> Path:
        """Where a snapshot received at `received` is kept, relative to the root."""
        return Path(snapshot.site) / _day(received) / f"{snapshot.event_id}.jpg"

    def clip_path(self, clip: Clip, received: datetime) -> Path:
        """Where a clip received at `received` is kept: beside its event's snapshot (received
        that day or the day before: the clip comes after it), else in that day's folder."""
        site = Path(clip.site)
        for day in (_day(received), _day(received - timedelta(days=1))):
            if (self.root / site / day / f"{clip.event_id}.jpg").is_file():
                return site / day / f"{clip.event_id}.mp4"
        return site / _day(received) / f"{clip.event_id}.mp4"

    def save(self, snapshot: Snapshot, received: datetime) -> Path:
        """Store the JPEG; return its path relative to the root. Storing it again is a no-op."""
        image = snapshot.image_bytes()
        if len(image) > self.max_bytes:
            raise SnapshotTooLarge(f"snapshot is {len(image)} bytes, limit {self.max_bytes}")
        return self._write(self.relative_path(snapshot, received), image)

    def save_clip(self, clip: Clip, received: datetime) -> Path:
        """Store the MP4; return its path relative to the root. Storing it again is a no-op."""
        video = clip.video_bytes()
        if len(video) > self.max_clip_bytes:
            raise SnapshotTooLarge(f"clip is {len(video)} bytes, limit {self.max_clip_bytes}")
        return self._write(self.clip_path(clip, received), video)

    def _write(self, relative: Path, data: bytes) -> Path:
        target = self.root / relative
        if target.exists() and target.stat().st_size == len(data):
            return relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return relative


def _day(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%d")
