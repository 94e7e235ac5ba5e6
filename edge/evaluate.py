"""Scoring fall events against the labelled dev clips (the rule of the footage's MANIFEST).

A fall clip counts as detected when a fall event starts no earlier than 1 s before the
labelled `event_start_frame` and no later than 5 s after it. Any fall event on a `no_fall` or
`loiter` clip, and any fall event starting more than 1 s early on a `fall` clip, is a false
alarm.
"""

import csv
import os
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "SHOUWANG_DATA_DIR"
EARLY_S = 1.0
LATE_S = 5.0


@dataclass(frozen=True, slots=True)
class Clip:
    """One row of labels.csv."""

    path: Path
    label: str
    event_start_frame: int | None
    fps: float
    frames: int

    @property
    def name(self) -> str:
        """Folder and file name, e.g. `fall/urfd-fall-01.mp4`."""
        return f"{self.path.parent.name}/{self.path.name}"


@dataclass(frozen=True, slots=True)
class ClipResult:
    """Outcome for one clip: `detected`, `missed`, `false_alarm` or `ok`."""

    clip: Clip
    outcome: str
    delay_s: float | None
    fall_frames: tuple[int, ...]


def data_dir(repo_root: Path) -> Path:
    """The footage folder: $SHOUWANG_DATA_DIR, else ../shared/data beside the repository."""
    override = os.environ.get(DATA_ENV)
    return Path(override) if override else repo_root.parent / "shared" / "data"


def load_clips(folder: Path) -> list[Clip]:
    """The clips listed in `folder/labels.csv`."""
    with (folder / "labels.csv").open(encoding="utf-8") as handle:
        return [
            Clip(
                path=folder / row["file"],
                label=row["label"],
                event_start_frame=int(row["event_start_frame"])
                if row["event_start_frame"]
                else None,
                fps=float(row["fps"]),
                frames=int(row["frames"]),
            )
            for row in csv.DictReader(handle)
        ]


def score(clip: Clip, fall_start_frames: list[int]) -> ClipResult:
    """Judge the frames at which fall events started on `clip`."""
    frames = tuple(sorted(fall_start_frames))
    if clip.label != "fall" or clip.event_start_frame is None:
        return ClipResult(clip, "false_alarm" if frames else "ok", None, frames)
    start = clip.event_start_frame
    early = [f for f in frames if f < start - EARLY_S * clip.fps]
    hits = [f for f in frames if start - EARLY_S * clip.fps <= f <= start + LATE_S * clip.fps]
    if early:
        return ClipResult(clip, "false_alarm", None, frames)
    if hits:
        return ClipResult(clip, "detected", (hits[0] - start) / clip.fps, frames)
    return ClipResult(clip, "missed", None, frames)
