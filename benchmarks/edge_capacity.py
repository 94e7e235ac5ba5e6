"""How many cameras one box sustains at 5 detect-fps with 10% motion duty.

    python -m benchmarks.edge_capacity [--quick] [--max-cameras 64] [--seconds 40]
        [--input-size 640]

The scene is a camera's sub-stream (640×360, 25 fps, H.264): an empty room with sensor noise
where people walk through for 2 s of every 20 s (`benchmarks.scenes.duty_cycle_scenes`). The
cameras get the cycle at ten different phases, so at any moment about a tenth of them see
motion, as independent village cameras would.

Each step runs `edge run` (both models, default camera settings) with N cameras against a
private Mosquitto, waits for the warm-up, then over `--seconds` reads the agent's CPU from
/proc and every camera's analysed frames per second from the agent's own heartbeats. N is
sustained when every camera analyses at least 95% of 5 fps and the agent uses less than 90% of
the box's cores. The search starts at 4 cameras, jumps to the count the measured CPU per camera
predicts (at least a quarter more), then bisects.

Baseline, measured in the same run: decoding alone, the CPU to grab every frame of the same
stream and convert 5 a second to colour, as the agent must; `0.9 × cores / that` is how many
cameras the box would take if analysis were free.
"""

import argparse
import json
import math
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.table import Table

from benchmarks.edge_run import agent_config, cpu_seconds, peak_rss_mb, running_agent
from benchmarks.scenes import duty_cycle_scenes, motion_share
from edge.sources import FrameSampler
from tests.helpers.mosquitto import running_mosquitto

console = Console()

DETECT_FPS = 5.0
FPS_FLOOR = 0.95
"""A camera keeps up when it analyses at least this share of DETECT_FPS."""
CPU_CEILING = 0.9
"""The agent may use at most this share of the box's cores."""
HEARTBEAT_S = 2.0
CYCLE_S = 20.0
MOTION_S = 2.0


def box_cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0))


def box_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # user … steal (guest time is already in user)
    return total - idle, total


class HeartbeatListener:
    """Collects an edge agent's heartbeats as they arrive."""

    def __init__(self, port: int, site: str, edge: str) -> None:
        self.beats: list[tuple[float, dict[str, Any]]] = []
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-beats-{uuid.uuid4().hex[:8]}"
        )
        topic = f"shouwang/v1/{site}/{edge}/heartbeat"
        self.client.on_connect = lambda client, *_a: client.subscribe(topic, qos=0)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _client: object, _userdata: object, message: Any) -> None:
        self.beats.append((time.monotonic(), json.loads(message.payload)))

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        """Heartbeats whose whole interval lies within [start, end] (monotonic clock)."""
        return [beat for at, beat in self.beats if start + HEARTBEAT_S <= at <= end]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Step:
    """One run of the agent with `cameras` cameras."""

    cameras: int
    cpu_cores: float
    box_busy: float
    min_fps: float
    mean_fps: float
    dropped: int
    rss_mb: float
    cores: int

    @property
    def cpu_per_camera(self) -> float:
        return self.cpu_cores / self.cameras

    @property
    def problems(self) -> list[str]:
        """Why this step is not sustained (empty when it is)."""
        found = []
        if self.min_fps < FPS_FLOOR * DETECT_FPS:
            found.append(f"a camera at {self.min_fps:.2f} fps")
        if self.cpu_cores > CPU_CEILING * self.cores:
            found.append(f"agent CPU {self.cpu_cores:.2f} of {self.cores} cores")
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Capacity:
    """The search's steps and its outcome."""

    cores: int
    decode_cpu: float
    """Baseline: cores one camera's stream needs to be decoded, nothing else."""
    motion_share: float
    bitrate_kbps: float
    steps: list[Step] = field(default_factory=list)

    @property
    def sustained(self) -> Step | None:
        """The largest sustained step."""
        passed = [s for s in self.steps if s.ok]
        return max(passed, key=lambda s: s.cameras) if passed else None

    @property
    def first_failure(self) -> Step | None:
        """The smallest step above every sustained one that failed."""
        floor = self.sustained.cameras if self.sustained else 0
        failed = [s for s in self.steps if not s.ok and s.cameras > floor]
        return min(failed, key=lambda s: s.cameras) if failed else None

    @property
    def decode_bound(self) -> float:
        """Cameras the box would take if analysis cost nothing."""
        return CPU_CEILING * self.cores / self.decode_cpu if self.decode_cpu else math.inf


def decode_cpu(video: Path, detect_fps: float = DETECT_FPS) -> float:
    """Cores needed to decode `video` in real time as the agent does: grab every frame,
    retrieve the sampled ones."""
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    sampler = FrameSampler(detect_fps)
    started = time.process_time()
    frames = 0
    while capture.grab():
        if sampler.due(frames / fps):
            capture.retrieve()
        frames += 1
    capture.release()
    return (time.process_time() - started) / (frames / fps)


def run_step(
    cameras: int,
    scenes: list[Path],
    broker_port: int,
    folder: Path,
    *,
    seconds: float,
    warmup: float,
    input_size: int | None = None,
) -> Step:
    """Run the agent with `cameras` cameras (pose input `input_size`, else the default) and
    measure it."""
    work = folder / f"step-{cameras}"
    work.mkdir()
    config = agent_config(
        work,
        [
            {"id": f"cam-{i:02d}", "source": str(scenes[i % len(scenes)]), "detect_fps": 5}
            for i in range(cameras)
        ],
        broker_port,
    )
    config["publish"]["heartbeat_interval_s"] = HEARTBEAT_S
    if input_size is not None:
        config["detector"] = {"input_size": input_size}
    listener = HeartbeatListener(broker_port, config["site"], config["edge_id"])
    try:
        with running_agent(config, work) as process:
            time.sleep(warmup)
            cpu0, box0, t0 = cpu_seconds(process.pid), box_times(), time.monotonic()
            time.sleep(seconds)
            cpu1, box1, t1 = cpu_seconds(process.pid), box_times(), time.monotonic()
            rss = peak_rss_mb(process.pid)
            if process.poll() is not None:
                raise RuntimeError(f"edge run exited with {process.returncode}")
    finally:
        listener.close()
    beats = listener.between(t0, t1)
    if not beats:
        raise RuntimeError("no heartbeat from the agent during the measurement")
    per_camera: dict[str, list[float]] = {}
    for beat in beats:
        for camera, health in beat["cameras"].items():
            per_camera.setdefault(camera, []).append(health["fps"])
    means = [sum(v) / len(v) for v in per_camera.values()]
    means += [0.0] * (cameras - len(means))  # a camera missing from every heartbeat
    return Step(
        cameras=cameras,
        cpu_cores=(cpu1 - cpu0) / (t1 - t0),
        box_busy=(box1[0] - box0[0]) / max(1, box1[1] - box0[1]),
        min_fps=min(means),
        mean_fps=sum(means) / len(means),
        dropped=beats[-1]["dropped_frames"] - beats[0]["dropped_frames"],
        rss_mb=rss,
        cores=box_cores(),
    )


def next_count(capacity: Capacity, max_cameras: int) -> int | None:
    """The next camera count to try, or None when the answer is known."""
    top = capacity.sustained
    floor = top.cameras if top else 0
    failure = capacity.first_failure
    ceiling = failure.cameras if failure else max_cameras + 1
    if ceiling - floor <= 1:
        return None
    if failure is not None:
        return (floor + ceiling) // 2
    assert top is not None
    # Jump to where the CPU per camera says the box is full, at least a quarter further, so
    # that a failure is found quickly; then bisect.
    predicted = int(CPU_CEILING * top.cores / top.cpu_per_camera)
    return min(max(predicted, math.ceil(floor * 1.25), floor + 1), max_cameras)


def measure(
    folder: Path,
    *,
    quick: bool = False,
    max_cameras: int = 64,
    seconds: float | None = None,
    warmup: float = 10.0,
    input_size: int | None = None,
    say: Callable[[str], None] = console.print,
) -> Capacity:
    """Search for the most cameras the box sustains; every step is kept."""
    phases = 5 if quick else 10
    seconds = seconds or (CYCLE_S if quick else 2 * CYCLE_S)
    steps_left = 3 if quick else 7
    say(f"cameras: writing {phases} phases of the 10% motion scene …")
    scenes = duty_cycle_scenes(folder, phases, cycle_s=CYCLE_S, motion_s=MOTION_S)
    bitrate = os.path.getsize(scenes[0]) * 8 / CYCLE_S / 1000
    capacity = Capacity(box_cores(), decode_cpu(scenes[0]), motion_share(scenes[0]), bitrate)
    with running_mosquitto(folder / "broker", tuned=True) as broker:
        count: int | None = 4
        while count is not None and steps_left > 0:
            say(f"cameras: {count} cameras for {seconds:.0f} s …")
            step = run_step(
                count,
                scenes,
                broker.port,
                folder,
                seconds=seconds,
                warmup=warmup,
                input_size=input_size,
            )
            say(
                f"cameras: {count}: agent CPU {step.cpu_cores:.2f} cores "
                f"({100 * step.cpu_per_camera:.1f}% of a core each), fps min "
                f"{step.min_fps:.2f}, box busy {100 * step.box_busy:.0f}% → "
                + ("sustained" if step.ok else "not sustained: " + "; ".join(step.problems))
            )
            capacity.steps.append(step)
            steps_left -= 1
            count = next_count(capacity, max_cameras)
    return capacity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter steps")
    parser.add_argument("--max-cameras", type=int, default=64)
    parser.add_argument("--seconds", type=float, help="measurement per step (default 40)")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--input-size", type=int, help="pose model input (default: the config's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        capacity = measure(
            Path(tmp),
            quick=args.quick,
            max_cameras=args.max_cameras,
            seconds=args.seconds,
            warmup=args.warmup,
            input_size=args.input_size,
        )
    table = Table(
        title=f"edge run at {DETECT_FPS:.0f} detect-fps, motion in "
        f"{100 * capacity.motion_share:.0f}% of sampled frames, {capacity.cores} cores"
    )
    for column in ("cameras", "agent CPU", "per camera", "fps min/mean", "dropped", "RSS", ""):
        table.add_column(column, justify="right")
    for step in sorted(capacity.steps, key=lambda s: s.cameras):
        table.add_row(
            str(step.cameras),
            f"{100 * step.cpu_cores:.0f}%",
            f"{100 * step.cpu_per_camera:.1f}%",
            f"{step.min_fps:.2f}/{step.mean_fps:.2f}",
            str(step.dropped),
            f"{step.rss_mb:.0f} MB",
            "ok" if step.ok else "; ".join(step.problems),
        )
    console.print(table)
    top = capacity.sustained
    console.print(
        f"sustained: {top.cameras if top else 0} cameras; decoding alone would allow "
        f"{capacity.decode_bound:.0f} ({100 * capacity.decode_cpu:.2f}% of a core per stream, "
        f"{capacity.bitrate_kbps:.0f} kbit/s)"
    )


if __name__ == "__main__":
    main()
