"""Video sources: files, RTSP/HTTP streams and USB cameras through OpenCV.

Capture runs in its own thread so a slow model never stalls it. Every frame is grabbed (so a
live stream never backs up) but only the sampled ones are decoded to colour. An RTSP camera
that cannot be opened is asked once more, with a bare DESCRIBE, why (wrong password, wrong
path, nothing listening), so its offline reason says so; credentials never appear in it.
"""

import base64
import hashlib
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import cv2
import numpy as np

from shouwang.contracts import CameraState

OPEN_TIMEOUT_MS = 10_000
_FFMPEG_OPTIONS = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_options_lock = threading.Lock()


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


def open_capture(
    source: str | int, read_timeout_s: float = 10.0, rtsp_transport: str | None = None
) -> cv2.VideoCapture:
    """An OpenCV capture for a device number, URL or file, with network timeouts; RTSP over
    `rtsp_transport` (`tcp` or `udp`; None: FFmpeg's choice, UDP falling back to TCP)."""
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return cv2.VideoCapture(int(source))
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS]
    params += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(read_timeout_s * 1000)]
    if not (rtsp_transport and str(source).lower().startswith("rtsp")):
        return cv2.VideoCapture(str(source), cv2.CAP_FFMPEG, params)
    # OpenCV reads FFmpeg options from the environment when it opens a capture.
    with _options_lock:
        previous = os.environ.get(_FFMPEG_OPTIONS)
        os.environ[_FFMPEG_OPTIONS] = f"rtsp_transport;{rtsp_transport}"
        try:
            return cv2.VideoCapture(str(source), cv2.CAP_FFMPEG, params)
        finally:
            if previous is None:
                os.environ.pop(_FFMPEG_OPTIONS, None)
            else:
                os.environ[_FFMPEG_OPTIONS] = previous


def redacted(source: str | int) -> str:
    """The source with any password in its URL replaced by ***."""
    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1***@", str(source))


RTSP_ANSWERS = {
    401: "the camera refused the user name or password",
    403: "the camera refused access",
    404: "the camera has no stream at this path",
    454: "the camera has no such session",
    461: "the camera refused the transport",
}


def rtsp_problem(url: str, timeout_s: float = 5.0) -> str:
    """Why an RTSP URL does not open, from the camera's answer to a DESCRIBE."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 554
    bare = f"rtsp://{host}:{port}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            conn.settimeout(timeout_s)
            auth = f"Basic {base64.b64encode(f'{user}:{password}'.encode()).decode()}"
            status, headers = _describe(conn, bare, 1, auth if user else None)
            challenge = headers.get("www-authenticate", "")
            if status == 401 and user and challenge.lower().startswith("digest"):
                fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
                ha1 = _md5(f"{user}:{fields.get('realm', '')}:{password}")
                answer = _md5(f"{ha1}:{fields.get('nonce', '')}:{_md5(f'DESCRIBE:{bare}')}")
                digest = (
                    f'Digest username="{user}", realm="{fields.get("realm", "")}", '
                    f'nonce="{fields.get("nonce", "")}", uri="{bare}", response="{answer}"'
                )
                status, _ = _describe(conn, bare, 2, digest)
    except TimeoutError:
        return f"{host}:{port} did not answer within {timeout_s:.0f} s"
    except OSError as exc:
        return f"cannot connect to {host}:{port}: {exc.strerror or exc}"
    if status == 200:
        return "the camera answers, but its stream could not be read"
    return f"RTSP {status}: {RTSP_ANSWERS.get(status, 'the camera refused the stream')}"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _describe(
    conn: socket.socket, url: str, cseq: int, auth: str | None
) -> tuple[int, dict[str, str]]:
    lines = [f"DESCRIBE {url} RTSP/1.0", f"CSeq: {cseq}", "Accept: application/sdp"]
    if auth:
        lines.append(f"Authorization: {auth}")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    reply = b""
    while b"\r\n\r\n" not in reply and len(reply) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        reply += chunk
    head, _, rest = reply.partition(b"\r\n\r\n")
    text = head.decode("latin-1").split("\r\n")
    found = re.match(r"RTSP/1\.0 (\d{3})", text[0] if text else "")
    if found is None:
        raise OSError(f"not an RTSP answer: {text[0][:60] if text else 'nothing'}")
    headers = {}
    for line in text[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        rest += chunk
    return int(found.group(1)), headers


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
        rtsp_transport: str | None = None,
    ) -> None:
        self.camera_id, self.source = camera_id, source
        self.rtsp_transport = rtsp_transport
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
            capture = open_capture(self.source, self.offline_after_s, self.rtsp_transport)
            if not capture.isOpened():
                capture.release()
                reason = f"cannot open source {redacted(self.source)}"
                if str(self.source).lower().startswith("rtsp://"):
                    reason += f": {rtsp_problem(str(self.source))}"
                self._set_state(CameraState.OFFLINE, reason)
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
