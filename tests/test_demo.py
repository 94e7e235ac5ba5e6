"""`make demo` as a new user meets it: real alerts through the real path, visible through the
API, notifications delivered, and nothing left running afterwards."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.helpers.mosquitto import free_port

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow
EXPECTED = ("跌倒", "逗留", "上午没有活动", "SOS", "请更换传感器电池")
"""The camera alerts (a fall, loitering) and the simulated Zigbee sensors' (a morning without
activity, the SOS button, the motion sensor's battery)."""
STARTUP_S = 300
"""Longest wait for the demo's services to start: seconds on a quiet machine, minutes on a
loaded one. What the demo does is then awaited from the moment they have started."""


def _processes_using(directory: Path) -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(directory) in cmdline:
            found.append(cmdline)
    return found


def _api(port: int, path: str, body: dict[str, str] | None = None, token: str = "") -> object:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        return json.loads(reply.read())


def _wait_for_the_api(demo: subprocess.Popen[str], port: int, timeout: float) -> None:
    """Wait until the demo's API answers (its services have started); fail at once if the
    demo exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and demo.poll() is None:
        try:
            _api(port, "/api/health")
            return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"the demo's API did not answer (demo exit code {demo.poll()})")


def _alerts_seen_by_the_duty_officer(port: int, timeout: float) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    token = ""
    while time.monotonic() < deadline:
        try:
            if not token:
                signed_in = _api(
                    port, "/api/auth/login", {"login": "duty", "password": "shouwang-demo"}
                )
                token = signed_in["token"]  # type: ignore[index]
            listed = _api(port, "/api/alerts", token=token)
            alerts = listed["items"]  # type: ignore[index]
            titles = " ".join(str(a["title"]) for a in alerts)
            if all(word in titles for word in EXPECTED):
                return alerts  # type: ignore[no-any-return]
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"not all of {EXPECTED} visible through the API in time")


def test_demo_with_embedded_services_end_to_end_then_clean_exit(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shouwang",
            "demo",
            "--embedded",
            "--workdir",
            str(workdir),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "160"},
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        _wait_for_the_api(demo, port, timeout=STARTUP_S)
        alerts = _alerts_seen_by_the_duty_officer(port, timeout=150)
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole group
        stdout, stderr = demo.communicate(timeout=90)
    assert demo.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stdout + stderr, stderr[-3000:]
    assert "demo stopped" in stdout, stdout[-3000:]
    titles = {a["title"] for a in alerts}
    assert any("跌倒" in t for t in titles), titles  # the elder's fall, critical
    assert {a["type"] for a in alerts} >= {"fall", "no_activity", "sos_button", "battery_low"}
    assert "started by the demo" in stdout
    summary = stdout.strip().splitlines()[-1]
    counts = dict(item.split(": ") for item in summary.split("demo: ")[1].split(", "))
    assert int(counts.get("fall started", 0)) >= 1, stdout[-3000:]
    assert int(counts.get("notifications delivered", 0)) >= 1, stdout[-3000:]
    assert int(counts.get("sensor readings", 0)) >= 11, "the morning's check-ins and the SOS press"
    assert "camera offline started" not in counts, "a looping sample file is not an outage"
    assert list((workdir / "snapshots").rglob("*.jpg")), "snapshots were not stored"
    assert _processes_using(workdir) == [], "the demo left processes behind"
    # A second run in the same folder works too (migrations, imports and users are idempotent).
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "shouwang",
            "demo",
            "--embedded",
            "--workdir",
            str(workdir),
            "--port",
            str(free_port()),
            "--duration",
            "5",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=180,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert _processes_using(workdir) == []


def test_ctrl_c_with_embedded_services_stops_cleanly(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole foreground process group, as a terminal sends it: the demo
    stops its children itself, exits 0 with its summary, and prints no traceback."""
    workdir = tmp_path / "demo"
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shouwang",
            "demo",
            "--embedded",
            "--workdir",
            str(workdir),
            "--port",
            str(free_port()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "160"},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_S
        sensors_log = workdir / "logs" / "sensors.log"
        while not sensors_log.exists() and time.monotonic() < deadline:
            time.sleep(0.5)  # the last process the demo starts
        time.sleep(3)  # the live view running
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        stdout, stderr = demo.communicate(timeout=90)
    assert demo.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stdout + stderr, (stdout + stderr)[-3000:]
    assert "demo stopped; every process it started has exited" in stdout
    assert stdout.strip().splitlines()[-1].startswith("stored on the events stream")
    assert _processes_using(workdir) == []
