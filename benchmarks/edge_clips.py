"""CPU cost of the evidence-clip ring buffer per camera, against the same camera pipeline
without it, on the same frames in the same run.

    python -m benchmarks.edge_clips [--quick] [--passes N]

The yard sample (`samples/intel-one-by-one.mp4`, 768×432, people walking to and from a table)
is decoded once and sampled at 5 fps. Each pass runs `CameraPipeline.process` on every frame
(motion gate on, as a camera runs) once alone and once with `ClipRecorder.add` after it (scale
to 640, JPEG at quality 70, into the ring), alternating which goes first; the process's CPU time
is summed per side (onnxruntime's and OpenCV's threads included), and the analysis thread's own
CPU inside the ring on its own. The clip the ring then holds (its last `max_s` seconds) is
encoded as one clip would be.
"""

import argparse
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from edge.config import CameraConfig, EdgeSettings
from edge.detect.base import Detector
from edge.detect.factory import build_detectors
from edge.events import EventFactory
from edge.evidence import ClipJob, ClipRecorder, encode_clip
from edge.pipeline import CameraPipeline
from edge.sources import Frame, read_file

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT / "samples" / "intel-one-by-one.mp4"


@dataclass(frozen=True)
class Result:
    """CPU seconds of both sides over every pass, and what one clip costs."""

    frames: int
    passes: int
    pipeline_s: float
    with_ring_s: float
    ring_s: float
    """CPU of the analysis thread inside `ClipRecorder.add`."""
    ring_bytes: int
    ring_frames: int
    clip_s: float
    clip_bytes: int
    clip_seconds: float

    def per_frame_ms(self, seconds: float) -> float:
        return 1000 * seconds / (self.frames * self.passes)

    @property
    def ratio(self) -> float:
        return self.with_ring_s / self.pipeline_s


def _run(
    camera: CameraConfig,
    frames: list[Frame],
    ring: bool,
    detectors: tuple[Detector, Detector | None],
) -> tuple[float, float, ClipRecorder | None]:
    """One side over the frames: process CPU of the whole loop, the analysis thread's CPU
    inside the ring, and the ring."""
    detector, fall_detector = detectors
    factory = EventFactory("bench", "edge-bench", camera.id, detector.info)
    pipeline = CameraPipeline(camera, detector, factory, fall_detector)
    recorder = ClipRecorder(camera.clip, "bench", camera.id) if ring else None
    start = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    ring_s = 0.0
    began = time.process_time()
    for frame in frames:
        at = start + timedelta(seconds=frame.t)
        emitted = pipeline.process(frame, at)
        if recorder is not None:
            before = time.thread_time()
            recorder.add(frame.image, at, [item.event for item in emitted])
            ring_s += time.thread_time() - before
    return time.process_time() - began, ring_s, recorder


def measure(passes: int, max_frames: int | None = None) -> Result:
    """Both sides `passes` times over the sample's sampled frames (the first `max_frames`)."""
    detectors = build_detectors(EdgeSettings().detector)
    camera = CameraConfig(id="cam-bench", source=str(FOOTAGE))
    frames = list(islice(read_file(FOOTAGE, camera.detect_fps), max_frames))
    spent = {False: 0.0, True: 0.0}
    ring_s, recorder = 0.0, None
    _run(camera, frames[:10], False, detectors)  # warm the session and the caches
    for n in range(passes):
        for ring in (False, True) if n % 2 == 0 else (True, False):
            cpu, in_ring, used = _run(camera, frames, ring, detectors)
            spent[ring] += cpu
            if used is not None:
                ring_s, recorder = ring_s + in_ring, used
    assert recorder is not None
    held = recorder.ring.between(datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
    began = time.process_time()
    clip = encode_clip(ClipJob("bench-clip", "bench", camera.id, held), camera.clip)
    clip_s = time.process_time() - began
    return Result(
        frames=len(frames),
        passes=passes,
        pipeline_s=spent[False],
        with_ring_s=spent[True],
        ring_s=ring_s,
        ring_bytes=recorder.ring.bytes,
        ring_frames=len(recorder.ring),
        clip_s=clip_s,
        clip_bytes=len(clip.video_bytes()),
        clip_seconds=clip.duration_s,
    )


def quick_frames(quick: bool) -> int | None:
    """How many sampled frames a run analyses (all 697 of the sample unless quick)."""
    return 100 if quick else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 frames, 2 passes (< 1 min)")
    parser.add_argument("--passes", type=int, help="passes per side (default 2 quick, 4)")
    args = parser.parse_args()
    passes = args.passes or (2 if args.quick else 4)
    result = measure(passes, quick_frames(args.quick))
    print(f"{result.frames} frames × {passes} passes at 5 fps ({FOOTAGE.name})")
    print(f"pipeline alone     {result.per_frame_ms(result.pipeline_s):7.2f} ms CPU per frame")
    print(f"pipeline + ring    {result.per_frame_ms(result.with_ring_s):7.2f} ms CPU per frame")
    print(f"ratio              {result.ratio:7.3f}×")
    print(f"ring (its thread)  {result.per_frame_ms(result.ring_s):7.2f} ms CPU per frame")
    print(f"ring holds         {result.ring_frames} frames, {result.ring_bytes / 1e6:.2f} MB")
    print(
        f"one clip           {result.clip_seconds:.1f} s, {result.clip_bytes / 1e3:.0f} kB, "
        f"{result.clip_s * 1000:.0f} ms CPU to encode"
    )


if __name__ == "__main__":
    main()
