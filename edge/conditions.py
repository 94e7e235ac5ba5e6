"""Viewing conditions of the accuracy benchmark: the clips as published, held, at sub-stream
quality, and held long; each variant is made once with ffmpeg and kept in a cache folder."""

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "SHOUWANG_FOOTAGE_CACHE"


class VariantError(Exception):
    """A variant of a clip could not be made (ffmpeg missing or failing); says why."""


@dataclass(frozen=True, slots=True)
class Condition:
    """How a clip is shown to the analyser: its last frame held `hold_s` seconds, then
    optionally re-encoded at `fps` frames a second and x264 quality `crf`."""

    name: str
    about: str
    hold_s: float = 0.0
    fps: float | None = None
    crf: int = 8

    @property
    def as_published(self) -> bool:
        """Whether the clip is used as it is."""
        return self.hold_s == 0 and self.fps is None

    def frame_rate(self, published_fps: float) -> float:
        """Frames a second of the variant of a clip published at `published_fps`."""
        return self.fps if self.fps is not None else published_fps

    def frame_of(self, published_frame: int, published_fps: float) -> int:
        """The variant's frame showing what frame `published_frame` of the clip shows."""
        if self.fps is None:
            return published_frame
        return round(published_frame * self.fps / published_fps)

    def ffmpeg_args(self) -> list[str]:
        """ffmpeg output options that make the variant."""
        filters = []
        if self.hold_s:
            filters.append(f"tpad=stop_mode=clone:stop_duration={self.hold_s:g}")
        if self.fps is not None:
            filters.append(f"fps={self.fps:g}")
        return [
            "-vf",
            ",".join(filters),
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            str(self.crf),
            "-pix_fmt",
            "yuv420p",
        ]


PUBLISHED = Condition("published", "as published (many clips end < 1 s after the drop)")
HELD = Condition("held", "last frame held 6 s (a fallen person stays down)", hold_s=6.0)
SUBSTREAM = Condition(
    "substream", "held, then 15 fps x264 CRF 32 (a village camera's sub-stream)", 6.0, 15.0, 32
)
LONG_LIE = Condition("long_lie", "last frame held 30 s (for person_down)", hold_s=30.0)
CONDITIONS = {c.name: c for c in (PUBLISHED, HELD, SUBSTREAM, LONG_LIE)}


def cache_dir() -> Path:
    """Where variants are kept: $SHOUWANG_FOOTAGE_CACHE, else ~/.cache/shouwang/footage."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path.home() / ".cache" / "shouwang" / "footage"


def variant(clip: Path, condition: Condition, folder: Path | None = None) -> Path:
    """The clip as `condition` shows it, made on first use (the cache key includes the clip's
    size and modification time, so a replaced clip is made again)."""
    if condition.as_published:
        return clip
    stat = clip.stat()
    key = f"{clip.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{condition.ffmpeg_args()}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    out = (folder or cache_dir()) / condition.name / f"{clip.stem}-{digest}.mp4"
    if out.is_file():
        return out
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise VariantError("ffmpeg is not installed (apt-get install ffmpeg)")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial.mp4")
    command = [ffmpeg, "-v", "error", "-y", "-i", str(clip), *condition.ffmpeg_args(), str(partial)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise VariantError(f"ffmpeg failed on {clip}: {done.stderr.strip()[-500:]}")
    partial.replace(out)
    return out
