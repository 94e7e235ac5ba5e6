"""`edge analyze` frames/s against bare onnxruntime on the same sampled frames and threads.

    python -m benchmarks.edge_throughput [--threads 2] [--input-size 416] [--fps 5]

Three figures over every dev clip (the two sample videos when ../shared/data is absent),
frames sampled at --fps:
- bare: letterbox + `session.run` of the pose model on frames already decoded in memory;
- pipeline: `CameraPipeline.process` on the same frames (detector with decode and NMS,
  tracker, zones, analysers, event building), motion gate off so every frame is inferred;
- analyze: the whole `edge analyze` path from the file (decode, grab-and-discard, motion
  gate on as by default).
The ratios pipeline/bare and analyze/bare are the overhead the agent adds (target ≥ 0.9).
The fall model is off here so both sides run the same model; its own cost (asked only on
fall candidates) is in edge_accuracy.py's CPU figure.
"""

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edge.analyze import VideoAnalysis, camera_for
from edge.config import EdgeSettings, MotionConfig
from edge.detect.factory import build_detectors
from edge.detect.yolo import YoloOnnxDetector
from edge.evaluate import data_dir, load_clips
from edge.events import EventFactory
from edge.pipeline import CameraPipeline
from edge.sources import Frame, read_file

ROOT = Path(__file__).resolve().parents[1]


def bare(detector: YoloOnnxDetector, frames: list[Frame]) -> float:
    """Seconds for letterbox + session.run on every frame."""
    started = time.perf_counter()
    for frame in frames:
        tensor, _ = detector.prepare(frame.image)
        detector.session.run(None, {detector.input_name: tensor})
    return time.perf_counter() - started


def pipeline(
    settings: EdgeSettings, detector: YoloOnnxDetector, video: Path, frames: list[Frame]
) -> float:
    """Seconds for the camera pipeline on every frame, motion gate off, with the detector
    (and so the onnxruntime session, already warm) that `bare` uses."""
    camera = camera_for(video, settings, None)
    camera = camera.model_copy(update={"motion": MotionConfig(enabled=False)})
    factory = EventFactory(settings.site, settings.edge_id, camera.id, detector.info)
    runner = CameraPipeline(camera, detector, factory, None)
    base = datetime.now(UTC)
    started = time.perf_counter()
    for frame in frames:
        runner.process(frame, base)
    runner.finish()
    return time.perf_counter() - started


def analyze(settings: EdgeSettings, video: Path, fps: float) -> tuple[float, int]:
    """Seconds and analysed frames of the whole `edge analyze` path on the file."""
    camera = camera_for(video, settings, None).model_copy(update={"detect_fps": fps})
    analysis = VideoAnalysis(video, settings, camera)
    started = time.perf_counter()
    for _ in analysis.events():
        pass
    return time.perf_counter() - started, analysis.stats.frames


@dataclass
class Throughput:
    """Frames and seconds of the three paths over a set of clips."""

    frames: int = 0
    bare_s: float = 0.0
    pipeline_s: float = 0.0
    analyze_s: float = 0.0

    def add(self, other: "Throughput") -> None:
        self.frames += other.frames
        self.bare_s += other.bare_s
        self.pipeline_s += other.pipeline_s
        self.analyze_s += other.analyze_s

    def fps(self, seconds: float) -> float:
        return self.frames / seconds if seconds else 0.0


def settings_for(threads: int, input_size: int) -> EdgeSettings:
    """The detector as benchmarked: pose model only, `threads`, `input_size`."""
    return EdgeSettings.model_validate(
        {
            "detector": {
                "threads": threads,
                "input_size": input_size,
                "fall_model": {"enabled": False},
            }
        }
    )


def clip_paths(every: int = 1) -> list[Path]:
    """Every `every`-th dev clip, or the two sample videos when the footage is absent."""
    folder = data_dir(ROOT)
    if (folder / "labels.csv").is_file():
        return [clip.path for clip in load_clips(folder)][::every]
    samples = ROOT / "samples"
    return [samples / "urfd-fall-01.mp4", samples / "intel-one-by-one.mp4"][::every]


def measure(
    videos: list[Path],
    settings: EdgeSettings,
    fps: float,
    on_clip: Callable[[Path, Throughput], None] | None = None,
) -> Throughput:
    """Bare, pipeline and `edge analyze` seconds over `videos`, frames sampled at `fps`.
    Bare and pipeline share one warm session and run twice per clip in the order bare,
    pipeline, pipeline, bare, so both see the same load on a shared machine."""
    detector, _ = build_detectors(settings.detector)
    assert isinstance(detector, YoloOnnxDetector)
    total = Throughput()
    for video in videos:
        frames = list(read_file(video, fps))
        bare(detector, frames[:3])  # warm-up
        # Bare, pipeline, pipeline, bare: a load that rises or falls during the clip weighs
        # on both sides alike.
        t_bare = bare(detector, frames)
        t_pipe = pipeline(settings, detector, video, frames)
        t_pipe = (t_pipe + pipeline(settings, detector, video, frames)) / 2
        t_bare = (t_bare + bare(detector, frames)) / 2
        t_analyze, analysed = analyze(settings, video, fps)
        assert analysed == len(frames)
        clip = Throughput(len(frames), t_bare, t_pipe, t_analyze)
        total.add(clip)
        if on_clip:
            on_clip(video, clip)
    return total


def main() -> None:
    """Print per-clip and total frames/s and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--input-size", type=int, default=416)
    parser.add_argument("--fps", type=float, default=5.0)
    args = parser.parse_args()
    settings = settings_for(args.threads, args.input_size)

    def show(video: Path, clip: Throughput) -> None:
        name = f"{video.parent.name}/{video.name}"
        print(
            f"{name:40} {clip.frames:6d} {clip.fps(clip.bare_s):9.1f} "
            f"{clip.fps(clip.pipeline_s):9.1f} {clip.fps(clip.analyze_s):12.1f}"
        )

    print(f"{'clip':40} {'frames':>6} {'bare fps':>9} {'pipe fps':>9} {'analyze fps':>12}")
    total = measure(clip_paths(), settings, args.fps, show)
    print(
        f"\nall clips: bare {total.fps(total.bare_s):.1f} fps, pipeline "
        f"{total.fps(total.pipeline_s):.1f} fps (ratio {total.bare_s / total.pipeline_s:.2f}), "
        f"edge analyze {total.fps(total.analyze_s):.1f} fps "
        f"(ratio {total.bare_s / total.analyze_s:.2f}); {args.threads} threads, "
        f"input {args.input_size}"
    )


if __name__ == "__main__":
    main()
