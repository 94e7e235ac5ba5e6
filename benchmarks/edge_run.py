"""CPU and peak memory of `edge run` with N cameras, measured from outside the process.

    .venv/bin/python benchmarks/edge_run.py --scene still --cameras 4 --seconds 60
    .venv/bin/python benchmarks/edge_run.py --scene busy --cameras 4 --seconds 60

`still`: a 640×360 25 fps H.264-like (MPEG-4) video of an empty room with sensor noise, played
at its own pace; the agent grabs every frame, compares 5 a second, and infers only on the
idle beat. Target ≤ 2% of one core per camera. `busy`: the Intel sample with people coming
and going (768×432, 10 fps), so the detector and tracker run. Target for peak RSS ≤ 600 MB.
No broker listens: events go to the store-and-forward queue, as in an outage.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from edge.evaluate import data_dir

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def still_video(path: Path, seconds: float) -> Path:
    """An empty, noisy, still scene (the first frame of the Intel sample, people-free)."""
    capture = cv2.VideoCapture(str(data_dir(ROOT) / "loiter" / "intel-one-by-one.mp4"))
    ok, frame = capture.read()
    capture.release()
    base = cv2.resize(frame, (640, 360)) if ok else np.full((360, 640, 3), 120, np.uint8)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (640, 360))
    rng = np.random.default_rng(0)
    for _ in range(int(seconds * 25)):
        noise = rng.normal(0, 2, base.shape)
        writer.write(np.clip(base + noise, 0, 255).astype(np.uint8))
    writer.release()
    return path


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its finished children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:13]) / TICKS


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    """A port nothing listens on (the broker is 'down')."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def agent_config(folder: Path, cameras: list[dict[str, Any]], mqtt_port: int) -> dict[str, Any]:
    """An `edge run` config for `cameras`, its queue in `folder`, the broker on `mqtt_port`."""
    return {
        "edge_id": "bench",
        "site": "bench",
        "mqtt": {"port": mqtt_port},
        "publish": {"queue_path": str(folder / "outbox.sqlite3"), "replay_jitter_s": 0},
        "cameras": cameras,
    }


@contextmanager
def running_agent(config: dict[str, Any], folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`edge run` with `config` as a child process for the duration of the block."""
    path = folder / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "edge.cli", "edge", "run", "--config", str(path)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def measure(
    config: dict[str, Any], folder: Path, seconds: float, warmup: float
) -> tuple[float, float]:
    """CPU (in cores) of `edge run` over `seconds` after `warmup`, and its peak RSS in MB."""
    with running_agent(config, folder) as process:
        time.sleep(warmup)
        cpu0, t0 = cpu_seconds(process.pid), time.monotonic()
        time.sleep(seconds)
        cpu = (cpu_seconds(process.pid) - cpu0) / (time.monotonic() - t0)
        return cpu, peak_rss_mb(process.pid)


def main() -> None:
    """Run `edge run`, wait for warm-up, measure CPU over `seconds`, report peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scene", choices=["still", "busy"], default="still")
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.scene == "still":
            video = still_video(folder / "still.mp4", args.seconds + args.warmup + 20)
        else:
            video = data_dir(ROOT) / "loiter" / "intel-one-by-one.mp4"
        cameras = [
            {"id": f"cam-{i}", "source": str(video), "detect_fps": 5} for i in range(args.cameras)
        ]
        config = agent_config(folder, cameras, free_port())
        cpu, rss = measure(config, folder, args.seconds, args.warmup)
    print(
        f"edge run, {args.cameras} cameras, {args.scene} scene, {args.seconds:.0f} s: "
        f"CPU {100 * cpu:.1f}% of one core ({100 * cpu / args.cameras:.2f}% per camera), "
        f"peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
