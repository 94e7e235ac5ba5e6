"""`edge analyze` frames/s against bare onnxruntime on the same sampled frames and threads.

    .venv/bin/python benchmarks/edge_throughput.py [--threads 2] [--input-size 416] [--fps 5]

Three figures over every dev clip, frames sampled at --fps:
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
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

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


def pipeline(settings: EdgeSettings, video: Path, frames: list[Frame]) -> float:
    """Seconds for the camera pipeline on every frame, motion gate off."""
    camera = camera_for(video, settings, None)
    camera = camera.model_copy(update={"motion": MotionConfig(enabled=False)})
    detector, fall = build_detectors(settings.detector)
    factory = EventFactory(settings.site, settings.edge_id, camera.id, detector.info)
    runner = CameraPipeline(camera, detector, factory, fall)
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


def main() -> None:
    """Print per-clip and total frames/s and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--input-size", type=int, default=416)
    parser.add_argument("--fps", type=float, default=5.0)
    args = parser.parse_args()
    settings = EdgeSettings.model_validate(
        {
            "detector": {
                "threads": args.threads,
                "input_size": args.input_size,
                "fall_model": {"enabled": False},
            }
        }
    )
    detector, _ = build_detectors(settings.detector)
    assert isinstance(detector, YoloOnnxDetector)
    totals = np.zeros(4)
    print(f"{'clip':40} {'frames':>6} {'bare fps':>9} {'pipe fps':>9} {'analyze fps':>12}")
    for clip in load_clips(data_dir(ROOT)):
        frames = list(read_file(clip.path, args.fps))
        bare(detector, frames[:3])  # warm-up
        t_bare = bare(detector, frames)
        t_pipe = pipeline(settings, clip.path, frames)
        t_analyze, analysed = analyze(settings, clip.path, args.fps)
        assert analysed == len(frames)
        n = len(frames)
        totals += [n, t_bare, t_pipe, t_analyze]
        print(f"{clip.name:40} {n:6d} {n / t_bare:9.1f} {n / t_pipe:9.1f} {n / t_analyze:12.1f}")
    count, all_bare, all_pipe, all_analyze = (float(v) for v in totals)
    print(
        f"\nall clips: bare {count / all_bare:.1f} fps, pipeline {count / all_pipe:.1f} fps "
        f"(ratio {all_bare / all_pipe:.2f}), edge analyze {count / all_analyze:.1f} fps "
        f"(ratio {all_bare / all_analyze:.2f}); {args.threads} threads, input {args.input_size}"
    )


if __name__ == "__main__":
    main()
