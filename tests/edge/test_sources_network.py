"""A camera behind a URL: frames arrive, an outage is reported, and it comes back by itself."""

import http.server
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest

from edge.sources import VideoSource
from shouwang.contracts import CameraState
from tests.helpers.mosquitto import free_port

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "urfd-fall-01.mp4"


class MjpegCamera:
    """An IP camera's MJPEG-over-HTTP stream (multipart/x-mixed-replace), made from a sample
    clip; it can go down and come back on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: http.server.ThreadingHTTPServer | None = None
        capture = cv2.VideoCapture(str(SAMPLE))
        self.jpegs: list[bytes] = []
        while True:
            ok, image = capture.read()
            if not ok:
                break
            self.jpegs.append(cv2.imencode(".jpg", image)[1].tobytes())
        capture.release()

    def start(self) -> None:
        jpegs, up = self.jpegs, threading.Event()
        up.set()
        self.up = up

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    for jpeg in itertools.cycle(jpegs):
                        if not up.is_set():  # the camera loses power: connections drop
                            return
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n")
                        self.wfile.write(f"Content-Length: {len(jpeg)}\r\n\r\n".encode())
                        self.wfile.write(jpeg + b"\r\n")
                        time.sleep(1 / 30)
                except OSError:
                    return

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.up.clear()
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def server() -> Iterator[MjpegCamera]:
    served = MjpegCamera(free_port())
    served.start()
    yield served
    served.stop()


def wait_until(condition, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_url_camera_delivers_frames_goes_offline_and_reconnects(server: MjpegCamera) -> None:
    states: list[tuple[CameraState, str | None]] = []
    source = VideoSource(
        "cam-http",
        f"http://127.0.0.1:{server.port}/video.mjpg",
        detect_fps=5,
        reconnect_max_s=2,
        offline_after_s=3,
        on_state=lambda _camera, state, error: states.append((state, error)),
    )
    source.start()
    try:
        frame = source.get(timeout=15)
        assert frame is not None and frame.image.shape[:2] == (240, 320)
        assert states[0][0] is CameraState.ONLINE
        server.stop()  # the stream ends and the camera cannot be reopened: an outage
        assert wait_until(lambda: states[-1][0] is CameraState.OFFLINE)
        assert states[-1][1]
        server.start()  # back: the source reconnects on its own, with back-off
        assert wait_until(lambda: states[-1][0] is CameraState.ONLINE, timeout=30)
        assert source.get(timeout=15) is not None
    finally:
        source.stop()
