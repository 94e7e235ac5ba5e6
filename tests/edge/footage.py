"""The labelled dev footage (../shared/data or $SHOUWANG_DATA_DIR) and cached analyses of it."""

from functools import cache
from pathlib import Path

import pytest

from edge.analyze import VideoAnalysis, camera_for
from edge.config import EdgeSettings
from edge.evaluate import Clip, data_dir, load_clips
from edge.events import Emitted

ROOT = Path(__file__).resolve().parents[2]


def footage() -> Path:
    """The footage folder, or skip the test saying where it was looked for."""
    folder = data_dir(ROOT)
    if not (folder / "labels.csv").is_file():
        pytest.skip(f"test footage not found at {folder} (set SHOUWANG_DATA_DIR)")
    return folder


def clip_names(label: str) -> list[str]:
    """Clip names with `label`, for parametrising (empty when the footage is absent)."""
    folder = data_dir(ROOT)
    if not (folder / "labels.csv").is_file():
        return [f"{label}/(footage absent)"]
    return [clip.name for clip in load_clips(folder) if clip.label == label]


def clip(name: str) -> Clip:
    """The labelled clip called `name`."""
    clips = {c.name: c for c in load_clips(footage())}
    if name not in clips:
        pytest.skip(f"clip {name} not in the footage")
    return clips[name]


@cache
def analysed(name: str) -> tuple[Emitted, ...]:
    """Events of `edge analyze` with the default config on clip `name` (computed once)."""
    video = clip(name).path
    settings = EdgeSettings()
    return tuple(VideoAnalysis(video, settings, camera_for(video, settings, None)).events())
