"""The edge agent's RTSP path against a real RTSP server (GStreamer's gst-rtsp-server on
loopback) serving H.264: frames arrive; the server stops and the camera goes offline after
`offline_after_s`; it comes back and the camera reconnects; TCP-only servers and credentials in
the URL work; a wrong path or password gives a clear offline reason without the password."""

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.sources import VideoSource, rtsp_problem
from shouwang.contracts import CameraState
from tests.helpers.mosquitto import free_port

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "urfd-fall-01.mp4"
SERVER = Path(__file__).resolve().parents[1] / "helpers" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"


def _gst_rtsp_available() -> bool:
    probe = "import gi; gi.require_version('GstRtspServer', '1.0')"
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode == 0


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not (shutil.which("ffmpeg") and Path(SYSTEM_PYTHON).exists() and _gst_rtsp_available()),
        reason="needs ffmpeg and python3-gi with gir1.2-gst-rtsp-server-1.0 (.ci/run installs)",
    ),
]


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample clip as H.264 (as a camera sends it), looped to about a minute."""
    out = tmp_path_factory.mktemp("rtsp") / "sample-h264.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "11",
            "-i",
            str(SAMPLE),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "15",
            "-an",
            str(out),
        ],
        check=True,
    )
    return out


class RtspServer:
    """gst-rtsp-server in a child process (system python3), stopped and started on one port."""

    def __init__(self, video: Path, *extra: str) -> None:
        self.port = free_port()
        self.args = [SYSTEM_PYTHON, str(SERVER), str(self.port), "live", str(video), *extra]
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def server(h264: Path) -> Iterator[RtspServer]:
    served = RtspServer(h264, "--user", "viewer", "--password", "s3cret", "--tcp-only")
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


def watch(url: str, transport: str | None = "tcp") -> tuple[VideoSource, list]:  # type: ignore[type-arg]
    states: list[tuple[CameraState, str | None]] = []
    source = VideoSource(
        "cam-rtsp",
        url,
        detect_fps=5,
        reconnect_max_s=2,
        offline_after_s=3,
        on_state=lambda _camera, state, error: states.append((state, error)),
        rtsp_transport=transport,
    )
    source.start()
    return source, states


def test_rtsp_camera_with_credentials_over_tcp_goes_offline_and_reconnects(
    server: RtspServer,
) -> None:
    source, states = watch(f"rtsp://viewer:s3cret@127.0.0.1:{server.port}/live")
    try:
        frame = source.get(timeout=20)
        assert frame is not None and frame.image.shape[:2] == (240, 320)
        assert states[0][0] is CameraState.ONLINE
        server.stop()
        stopped = time.monotonic()
        assert wait_until(lambda: states[-1][0] is CameraState.OFFLINE)
        assert time.monotonic() - stopped <= 3 + 5  # offline_after_s, and a little slack
        assert "s3cret" not in (states[-1][1] or "")
        server.start()
        assert wait_until(lambda: states[-1][0] is CameraState.ONLINE, timeout=30)
        assert source.get(timeout=15) is not None
    finally:
        source.stop()


@pytest.mark.parametrize(
    ("path", "password", "reason"),
    [
        ("nope", "s3cret", "RTSP 404: the camera has no stream at this path"),
        ("live", "wrong", "RTSP 401: the camera refused the user name or password"),
    ],
)
def test_wrong_path_or_password_is_a_clear_offline_reason(
    server: RtspServer, path: str, password: str, reason: str
) -> None:
    url = f"rtsp://viewer:{password}@127.0.0.1:{server.port}/{path}"
    source, states = watch(url)
    try:
        assert wait_until(lambda: bool(states) and states[-1][0] is CameraState.OFFLINE)
        error = states[-1][1] or ""
        assert reason in error and password not in error and "viewer:***@" in error
    finally:
        source.stop()


def test_nothing_listening_is_said_so() -> None:
    assert "cannot connect" in rtsp_problem(f"rtsp://127.0.0.1:{free_port()}/live", 2)
