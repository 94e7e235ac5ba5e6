"""Evidence clips: how many seconds around an event each camera keeps and sends."""

from pydantic import Field, model_validator

from shouwang.contracts import DEFAULT_MAX_CLIP_BYTES
from shouwang.settings import Section


class ClipConfig(Section):
    """A short ring buffer of JPEG frames per camera; for each episode start that carries a
    snapshot (fall, person down, loitering, child unattended, inactivity) an H.264 MP4 clip from
    a few seconds before the episode began to a few seconds after the event, sent after it."""

    enabled: bool = Field(True, title="Enabled", description="Keep and send evidence clips.")
    before_s: float = Field(
        5.0,
        ge=0,
        le=60,
        title="Seconds before",
        description="Seconds of video before the episode began (the moment of the fall).",
    )
    after_s: float = Field(
        5.0,
        ge=0,
        le=60,
        title="Seconds after",
        description="Seconds of video after the event; the clip is sent once they have passed.",
    )
    max_s: float = Field(
        20.0,
        gt=0,
        le=120,
        title="Longest clip",
        description="Seconds the ring buffer holds, and so the longest clip: an episode that "
        "began longer ago (a long lie, loitering) gets the last seconds before its event.",
    )
    max_side: int = Field(
        640,
        ge=64,
        le=1920,
        title="Largest side",
        description="Frames are scaled down to this many pixels on their longer side.",
    )
    jpeg_quality: int = Field(
        70,
        ge=20,
        le=95,
        title="Buffer JPEG quality",
        description="Quality of the JPEG frames in the ring buffer (memory against detail).",
    )
    max_buffer_bytes: int = Field(
        16 * 1024 * 1024,
        ge=256 * 1024,
        title="Buffer memory",
        description="Most bytes of JPEG frames kept per camera; the oldest go first.",
    )
    crf: int = Field(
        30,
        ge=18,
        le=45,
        title="H.264 quality (CRF)",
        description="x264 constant rate factor: lower is sharper and larger.",
    )
    max_bytes: int = Field(
        DEFAULT_MAX_CLIP_BYTES,
        ge=1024,
        title="Largest clip",
        description="A larger MP4 is not sent (logged and counted in the heartbeat's "
        "`clips_failed`); keep it within ingest's `max_clip_bytes`.",
    )

    @model_validator(mode="after")
    def _after_fits(self) -> "ClipConfig":
        if self.after_s >= self.max_s:
            raise ValueError(f"after_s ({self.after_s}) must be shorter than max_s ({self.max_s})")
        return self
