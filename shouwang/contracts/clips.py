"""Evidence clips: the seconds before and after an event, H.264 in MP4, base64 inside JSON, on
`shouwang/v1/<site>/<camera>/clip`.

A clip is published after its event (the edge waits for the seconds after it), keyed by the
event's `event_id`, and may be missing: the event never waits for it.
"""

import base64
import binascii
import hashlib
from datetime import datetime
from typing import Annotated, ClassVar, Self

from pydantic import Field, PrivateAttr, StringConstraints, model_validator

from shouwang.contracts.common import Identifier, MessageId, MessageKind, Timestamp, WireModel

DEFAULT_MAX_CLIP_BYTES = 640 * 1024
"""Largest MP4 (decoded) the edge sends and ingest accepts by default."""
DEFAULT_MAX_CLIP_PAYLOAD_BYTES = 1_000_000
"""Largest clip message by default: inside Mosquitto's `max_packet_size` 1 MiB (our tuning) and
NATS's default `max_payload` (1 MB) with the topic."""


def mp4_problem(data: bytes) -> str | None:
    """What makes `data` not a progressive MP4 a browser can start playing at once, or None.

    Walks the top-level boxes: `ftyp` first, a `moov` before the `mdat` (faststart), sizes that
    add up to the file.
    """
    offset, boxes = 0, []
    while offset < len(data):
        if len(data) - offset < 8:
            return f"truncated box header at byte {offset}"
        size = int.from_bytes(data[offset : offset + 4], "big")
        name = data[offset + 4 : offset + 8].decode("latin-1")
        header = 8
        if size == 1:  # 64-bit size follows
            if len(data) - offset < 16:
                return f"truncated box header at byte {offset}"
            size, header = int.from_bytes(data[offset + 8 : offset + 16], "big"), 16
        elif size == 0:  # box runs to the end of the file
            size = len(data) - offset
        if size < header or offset + size > len(data):
            return f"box {name!r} at byte {offset} has size {size}, beyond the data"
        boxes.append(name)
        offset += size
    if not boxes or boxes[0] != "ftyp":
        return "not an MP4 (no ftyp box first)"
    if "moov" not in boxes or "mdat" not in boxes:
        return "MP4 has no moov or no mdat box"
    if boxes.index("moov") > boxes.index("mdat"):
        return "MP4 is not faststart (moov after mdat): browsers must load it whole to play"
    return None


class Clip(WireModel):
    """The seconds before and after an event, as H.264 in a faststart MP4."""

    KIND: ClassVar[MessageKind] = MessageKind.CLIP
    SOURCE_FIELD: ClassVar[str] = "camera"

    event_id: MessageId = Field(description="The event the clip is evidence of.")
    camera: Identifier
    content_type: Annotated[str, StringConstraints(pattern=r"^video/mp4$")] = "video/mp4"
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    width: Annotated[int, Field(gt=0, le=16384)]
    height: Annotated[int, Field(gt=0, le=16384)]
    starts_at: Timestamp = Field(description="When the clip's first frame was taken.")
    ends_at: Timestamp = Field(description="When its last frame was taken.")
    frames: Annotated[int, Field(gt=0, le=100_000)]
    data: Annotated[str, StringConstraints(min_length=4)] = Field(
        description="The MP4 bytes, standard base64."
    )

    _video: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _mp4_matches(self) -> Self:
        if self.ends_at < self.starts_at:
            raise ValueError("ends_at must not be before starts_at")
        try:
            video = base64.b64decode(self.data, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"data is not valid base64: {exc}") from None
        problem = mp4_problem(video)
        if problem:
            raise ValueError(f"data: {problem}")
        if hashlib.sha256(video).hexdigest() != self.sha256:
            raise ValueError("sha256 does not match data")
        self._video = video
        return self

    def video_bytes(self) -> bytes:
        """The decoded MP4."""
        return self._video

    @property
    def duration_s(self) -> float:
        """Seconds from the first frame to the last."""
        return (self.ends_at - self.starts_at).total_seconds()

    @classmethod
    def from_mp4(
        cls,
        mp4: bytes,
        *,
        event_id: str,
        site: str,
        camera: str,
        width: int,
        height: int,
        starts_at: datetime,
        ends_at: datetime,
        frames: int,
    ) -> "Clip":
        """Wrap encoded MP4 bytes for publishing."""
        return cls(
            schema_version=1,
            event_id=event_id,
            site=site,
            camera=camera,
            sha256=hashlib.sha256(mp4).hexdigest(),
            width=width,
            height=height,
            starts_at=starts_at,
            ends_at=ends_at,
            frames=frames,
            data=base64.b64encode(mp4).decode("ascii"),
        )

    @property
    def idempotency_key(self) -> str:
        return f"clip:{self.event_id}"
