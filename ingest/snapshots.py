"""Snapshot files: one JPEG per event under `<dir>/<site>/<YYYYMMDD>/<event_id>.jpg`."""

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from shouwang.contracts import Snapshot


class SnapshotTooLarge(ValueError):
    """The JPEG is larger than the configured limit."""


class SnapshotStore:
    """Writes snapshots atomically (temp file, fsync, rename): a crash never leaves half a JPEG."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def relative_path(self, snapshot: Snapshot, received: datetime) -> Path:
        """Where a snapshot received at `received` is kept, relative to the root."""
        day = received.astimezone(UTC).strftime("%Y%m%d")
        return Path(snapshot.site) / day / f"{snapshot.event_id}.jpg"

    def save(self, snapshot: Snapshot, received: datetime) -> Path:
        """Store the JPEG; return its path relative to the root. Storing it again is a no-op."""
        image = snapshot.image_bytes()
        if len(image) > self.max_bytes:
            raise SnapshotTooLarge(f"snapshot is {len(image)} bytes, limit {self.max_bytes}")
        relative = self.relative_path(snapshot, received)
        target = self.root / relative
        if target.exists() and target.stat().st_size == len(image):
            return relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".jpg")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(image)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return relative
