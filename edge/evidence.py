"""Evidence clips: a ring buffer of JPEG frames per camera, and the H.264 MP4 clip around each
episode start, encoded and sent on a thread of its own so analysis never waits for it.

The ring holds the analysed frames (`detect_fps`), scaled down and JPEG-encoded, for
`clip.max_s` seconds within `clip.max_buffer_bytes`. An episode start that carries a snapshot
asks for a clip from `before_s` before the episode began to `after_s` after the event; once a
frame past its end arrives (or the camera stops) the frames are handed to the `ClipWriter`,
which encodes them (x264, yuv420p, faststart MP4, frame times as they were) and publishes the
clip. A clip that fails to encode or is too large is logged and counted; its event has long
gone by then.
"""

import queue
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import cv2
import numpy as np
import numpy.typing as npt
import structlog

from edge.config.clip import ClipConfig
from shouwang.contracts import BehaviourEvent, Clip, Phase

log = structlog.get_logger(__name__)
_MS = Fraction(1, 1000)


class ClipError(Exception):
    """A clip that could not be made; `reason` is `encode_failed` or `too_large`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class BufferedFrame:
    """One frame of the ring: when it was taken and its JPEG."""

    at: datetime
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class ClipJob:
    """The frames of one clip, ready to encode."""

    event_id: str
    site: str
    camera: str
    frames: tuple[BufferedFrame, ...]


class FrameRing:
    """The last `seconds` of frames, at most `max_bytes` of JPEG; the oldest go first."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.span = timedelta(seconds=seconds)
        self.max_bytes = max_bytes
        self.bytes = 0
        self._frames: deque[BufferedFrame] = deque()

    def add(self, frame: BufferedFrame) -> None:
        """Append a frame and drop what falls out of the window or the byte budget."""
        self._frames.append(frame)
        self.bytes += len(frame.jpeg)
        while self._frames and (
            self._frames[0].at < frame.at - self.span or self.bytes > self.max_bytes
        ):
            self.bytes -= len(self._frames.popleft().jpeg)

    def between(self, start: datetime, end: datetime) -> tuple[BufferedFrame, ...]:
        """The frames taken from `start` to `end`, in order."""
        return tuple(f for f in self._frames if start <= f.at <= end)

    def __len__(self) -> int:
        return len(self._frames)


@dataclass(frozen=True, slots=True)
class _Wanted:
    event_id: str
    start: datetime
    end: datetime


class ClipRecorder:
    """One camera's ring buffer and the clips it waits to complete. Not thread-safe: the
    camera's analysis thread alone calls it."""

    def __init__(self, config: ClipConfig, site: str, camera: str) -> None:
        self.config, self.site, self.camera = config, site, camera
        self.ring = FrameRing(config.max_s, config.max_buffer_bytes)
        self._wanted: list[_Wanted] = []

    def add(
        self, image: np.ndarray, at: datetime, events: Sequence[BehaviourEvent]
    ) -> list[ClipJob]:
        """Buffer the analysed frame taken at `at`, note the clips `events` (decided on it)
        ask for, and return the clips that are now complete."""
        self.ring.add(BufferedFrame(at, buffer_jpeg(image, self.config)))
        for event in events:
            if event.phase is Phase.START and event.snapshot is not None:
                end = event.observed_at + timedelta(seconds=self.config.after_s)
                begun = event.started_at - timedelta(seconds=self.config.before_s)
                start = max(begun, end - timedelta(seconds=self.config.max_s))
                self._wanted.append(_Wanted(event.event_id, start, end))
        due = [w for w in self._wanted if w.end <= at]
        self._wanted = [w for w in self._wanted if w.end > at]
        return [job for w in due if (job := self._job(w))]

    def flush(self) -> list[ClipJob]:
        """The clips still waiting, with the frames there are (the camera is stopping)."""
        wanted, self._wanted = self._wanted, []
        return [job for w in wanted if (job := self._job(w))]

    def _job(self, wanted: _Wanted) -> ClipJob | None:
        frames = self.ring.between(wanted.start, wanted.end)
        if not frames:
            return None
        return ClipJob(wanted.event_id, self.site, self.camera, frames)


def buffer_jpeg(image: np.ndarray, config: ClipConfig) -> bytes:
    """The frame as the ring keeps it: scaled to `max_side`, even sides (H.264 needs them)."""
    height, width = image.shape[:2]
    scale = min(1.0, config.max_side / max(height, width))
    size = (max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2))
    if size != (width, height):
        # Linear is a quarter of area's CPU and as good down to half size (sub-streams).
        interpolation = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
        image = cv2.resize(image, size, interpolation=interpolation)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, config.jpeg_quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def encode_clip(job: ClipJob, config: ClipConfig) -> Clip:
    """The job's frames as a faststart H.264 MP4 clip; raises ClipError."""
    images: list[npt.NDArray[np.uint8]] = []
    for buffered in job.frames:
        image = cv2.imdecode(np.frombuffer(buffered.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ClipError("encode_failed", "a buffered frame is not a readable JPEG")
        if images and image.shape[:2] != images[0].shape[:2]:  # the camera changed resolution
            image = cv2.resize(image, images[0].shape[1::-1], interpolation=cv2.INTER_AREA)
        images.append(np.asarray(image, dtype=np.uint8))
    height, width = images[0].shape[:2]
    first = job.frames[0].at
    try:
        with tempfile.TemporaryDirectory(prefix="shouwang-clip-") as folder:
            path = Path(folder) / "clip.mp4"
            with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
                stream = out.add_stream("libx264")
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                stream.time_base = stream.codec_context.time_base = _MS  # ms, not 1/24 s
                stream.options = {"crf": str(config.crf), "preset": "veryfast", "profile": "main"}
                last_pts = -1
                for frame, image in zip(job.frames, images, strict=True):
                    video = av.VideoFrame.from_ndarray(image, format="bgr24")
                    video.pts = max(last_pts + 1, round((frame.at - first).total_seconds() * 1000))
                    video.time_base = _MS
                    last_pts = video.pts
                    out.mux(stream.encode(video))
                out.mux(stream.encode(None))
            mp4 = path.read_bytes()
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise ClipError("encode_failed", f"H.264 encoding failed: {exc}") from exc
    if len(mp4) > config.max_bytes:
        raise ClipError("too_large", f"clip is {len(mp4)} bytes, limit {config.max_bytes}")
    return Clip.from_mp4(
        mp4,
        event_id=job.event_id,
        site=job.site,
        camera=job.camera,
        width=width,
        height=height,
        starts_at=first,
        ends_at=job.frames[-1].at,
        frames=len(job.frames),
    )


class ClipSink(Protocol):
    """Where clips go (the MQTT publisher)."""

    def publish_clip(self, clip: Clip) -> None:
        """Queue a clip for delivery."""


class ClipWriter:
    """Encodes clip jobs one at a time on its own thread and publishes them; counts, per
    camera, the clips that could not be made."""

    def __init__(self, sink: ClipSink, configs: dict[str, ClipConfig]) -> None:
        self.sink, self.configs = sink, configs
        self.failed: dict[str, int] = dict.fromkeys(configs, 0)
        self.sent: dict[str, int] = dict.fromkeys(configs, 0)
        self._jobs: queue.Queue[ClipJob | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="edge-clips", daemon=True)

    def start(self) -> None:
        """Start the encoding thread."""
        self._thread.start()

    def submit(self, jobs: Sequence[ClipJob]) -> None:
        """Queue clips for encoding."""
        for job in jobs:
            self._jobs.put(job)

    def stop(self, timeout: float = 30.0) -> None:
        """Encode and publish what is queued, then end the thread."""
        self._jobs.put(None)
        self._thread.join(timeout)

    def write(self, job: ClipJob) -> None:
        """Encode and publish one clip; log and count a clip that cannot be made."""
        bound = log.bind(event_id=job.event_id, camera=job.camera, frames=len(job.frames))
        try:
            clip = encode_clip(job, self.configs[job.camera])
            self.sink.publish_clip(clip)
        except ClipError as exc:
            self.failed[job.camera] = self.failed.get(job.camera, 0) + 1
            bound.error("clip.failed", reason=exc.reason, detail=str(exc))
            return
        self.sent[job.camera] = self.sent.get(job.camera, 0) + 1
        bound.info("clip.queued", bytes=len(clip.video_bytes()), seconds=round(clip.duration_s, 1))

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self.write(job)
            except Exception:  # a disk error in the queue: keep the thread for the next clip
                self.failed[job.camera] = self.failed.get(job.camera, 0) + 1
                log.exception("clip.failed", event_id=job.event_id, camera=job.camera)
