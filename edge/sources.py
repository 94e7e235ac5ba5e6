"""Video sources: files, RTSP/HTTP streams and USB cameras through OpenCV.

Capture runs in its own thread so a slow model never stalls it. Every frame is grabbed (so a
live stream never backs up) but only the sampled ones are decoded to colour.
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from shouwang.contracts import CameraState

OPEN_TIMEOUT_MS = 10_000


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded, sampled frame: `index` counts every frame of the source since it was
    opened, `t` is seconds (file position for files, monotonic clock for live sources)."""

    image: np.ndarray
    index: int
    t: float


class FrameSampler:
    """Picks `detect_fps` frames a second out of a source, by frame index or by clock."""

    def __init__(self, detect_fps: float) -> None:
        self.period = 1.0 / detect_fps
        self._next = 0.0

    def due(self, t: float) -> bool:
        """True for the first frame at or after each sampling instant."""
        if t + 1e-6 < self._next:
            return False
        self._next = max(self._next + self.period, t + self.period / 2)
        return True


def open_capture(source: str | int, read_timeout_s: float = 10.0) -> cv2.VideoCapture:
    """An OpenCV capture for a device number, URL or file, with network timeouts."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return cv2.VideoCapture(int(source))
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS]
    params += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(read_timeout_s * 1000)]
    return cv2.VideoCapture(str(source), cv2.CAP_FFMPEG, params)


def is_file(source: str | int) -> bool:
    """Whether the source is a local video file (played at its own frame rate by `run`)."""
    return isinstance(source, str) and "://" not in source and not source.isdigit()


def read_file(path: Path, detect_fps: float) -> Iterator[Frame]:
    """Sampled frames of a video file, as fast as it decodes (for `edge analyze`)."""
    capture = open_capture(str(path))
    if not capture.isOpened():
        raise OSError(f"cannot open video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    sampler = FrameSampler(detect_fps)
    index = 0
    try:
        while capture.grab():
            t = index / fps
            if sampler.due(t):
                ok, image = capture.retrieve()
                if ok:
                    yield Frame(image, index, t)
            index += 1
    finally:
        capture.release()


StateCallback = Callable[[str, CameraState, str | None], None]


class VideoSource:
    """One camera read in a background thread; the newest sampled frame waits in a one-frame
    slot, and a frame replaced before it was taken counts as dropped."""

    def __init__(
        self,
        camera_id: str,
        source: str | int,
        detect_fps: float,
        *,
        reconnect_max_s: float = 60.0,
        offline_after_s: float = 10.0,
        on_state: StateCallback | None = None,
    ) -> None:
        self.camera_id, self.source = camera_id, source
        self.detect_fps, self.reconnect_max_s = detect_fps, reconnect_max_s
        self.offline_after_s = offline_after_s
        self.on_state = on_state
        self.state = CameraState.STARTING
        self.error: str | None = None
        self.dropped_frames = 0
        self.last_frame_at: float | None = None
        self._slot: Frame | None = None
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"source-{camera_id}", daemon=True)

    def start(self) -> None:
        """Start capturing."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop capturing and wait for the thread."""
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        self._thread.join(timeout)

    def get(self, timeout: float) -> Frame | None:
        """The newest sampled frame not yet taken, waiting up to `timeout` seconds."""
        with self._ready:
            if self._slot is None:
                self._ready.wait(timeout)
            frame, self._slot = self._slot, None
            return frame

    def _set_state(self, state: CameraState, error: str | None = None) -> None:
        if state == self.state and error == self.error:
            return
        self.state, self.error = state, error
        if self.on_state:
            self.on_state(self.camera_id, state, error)

    def _put(self, frame: Frame) -> None:
        with self._ready:
            if self._slot is not None:
                self.dropped_frames += 1
            self._slot = frame
            self._ready.notify()

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            capture = open_capture(self.source, self.offline_after_s)
            if not capture.isOpened():
                capture.release()
                self._set_state(CameraState.OFFLINE, f"cannot open source {self.source}")
            else:
                backoff = 1.0 if self._read(capture) else backoff
            if self._stop.wait(backoff):
                break
            backoff = min(backoff * 2, self.reconnect_max_s)

    def _read(self, capture: cv2.VideoCapture) -> bool:
        """Read until the stream ends or fails; True if any frame came."""
        pace = is_file(self.source)
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        sampler = FrameSampler(self.detect_fps)
        started = time.monotonic()
        index = 0
        try:
            while not self._stop.is_set():
                if not capture.grab():
                    if not (pace and index):
                        break
                    # A video file plays in a loop, seamlessly: not an outage of the camera.
                    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    started, index = time.monotonic(), 0
                    sampler = FrameSampler(self.detect_fps)
                    if not capture.grab():
                        break
                now = time.monotonic()
                if pace:
                    delay = started + index / fps - now
                    if delay > 0:
                        time.sleep(delay)
                self.last_frame_at = now
                if index == 0:
                    self._set_state(CameraState.ONLINE)
                if sampler.due(now - started):
                    ok, image = capture.retrieve()
                    if ok:
                        self._put(Frame(image, index, now))
                index += 1
        finally:
            capture.release()
        if index and not self._stop.is_set():
            reason = "file cannot be read again" if pace else "stream ended or timed out"
            self._set_state(CameraState.OFFLINE, reason)
        return index > 0
