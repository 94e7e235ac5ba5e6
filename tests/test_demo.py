"""`make demo` as a new user meets it: real events arrive, and nothing is left running."""

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _processes_using(directory: Path) -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(directory) in cmdline:
            found.append(cmdline)
    return found


def test_demo_with_embedded_services_raises_fall_and_loitering_alerts_and_cleans_up(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "demo"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shouwang",
            "demo",
            "--embedded",
            "--duration",
            "40",
            "--workdir",
            str(workdir),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "started by the demo" in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    counts = dict(item.split(": ") for item in summary.split("demo: ")[1].split(", "))
    assert int(counts.get("fall start", 0)) >= 1, result.stdout[-3000:]
    assert int(counts.get("loitering start", 0)) >= 1, result.stdout[-3000:]
    assert int(counts.get("alerts raised", 0)) >= 2, result.stdout[-3000:]
    assert "camera_offline start" not in counts, "a looping sample file is not an outage"
    assert list((workdir / "snapshots").rglob("*.jpg")), "snapshots were not stored"
    assert _processes_using(workdir) == []
