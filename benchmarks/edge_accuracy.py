"""Fall accuracy of `edge analyze` on the labelled dev clips, per clip (MANIFEST rule).

    .venv/bin/python benchmarks/edge_accuracy.py [--fall-model] [--input-size 416] [--fps 5]
        [--scale 0.5]

`--scale` shrinks every clip first (people of half the size and resolution): a probe of how
the rule degrades on small, low-resolution people like those of outdoor CCTV.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cv2

from edge.analyze import VideoAnalysis, camera_for
from edge.config import EdgeSettings
from edge.evaluate import data_dir, load_clips, score
from shouwang.contracts import EventType, Phase

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Print a per-clip table and the totals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fall-model", action="store_true", help="ask the fall model too")
    parser.add_argument("--input-size", type=int, default=416)
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--scale", type=float, default=1.0, help="shrink clips by this factor")
    args = parser.parse_args()
    settings = EdgeSettings.model_validate(
        {
            "detector": {
                "input_size": args.input_size,
                "fall_model": {"enabled": args.fall_model},
            }
        }
    )
    results, cpu, opinions, frames = [], 0.0, 0, 0
    print(f"{'clip':40} {'outcome':12} {'delay s':>8}  fall starts (frame)")
    scratch = tempfile.TemporaryDirectory()
    for clip in load_clips(data_dir(ROOT)):
        video = clip.path if args.scale == 1 else shrink(clip.path, args.scale, Path(scratch.name))
        camera = camera_for(video, settings, None).model_copy(update={"detect_fps": args.fps})
        analysis = VideoAnalysis(video, settings, camera)
        started = time.process_time()
        falls = [
            e.frame
            for e in analysis.events()
            if e.event.type == EventType.FALL and e.event.phase == Phase.START
        ]
        cpu += time.process_time() - started
        opinions += analysis.stats.second_opinions
        frames += analysis.stats.frames
        result = score(clip, falls)
        results.append(result)
        delay = f"{result.delay_s:+.1f}" if result.delay_s is not None else ""
        print(f"{clip.name:40} {result.outcome:12} {delay:>8}  {list(result.fall_frames)}")
    detected = sum(r.outcome == "detected" for r in results)
    falls_total = sum(r.clip.label == "fall" for r in results)
    alarms = sum(r.outcome == "false_alarm" for r in results)
    delays = [r.delay_s for r in results if r.delay_s is not None]
    print(
        f"\nfalls detected {detected}/{falls_total}, false alarms {alarms}/{len(results)} clips, "
        f"median delay {statistics.median(delays) if delays else float('nan'):.2f} s, "
        f"CPU {cpu:.1f} s for {frames} analysed frames, fall model asked on {opinions}"
    )


def shrink(video: Path, scale: float, folder: Path) -> Path:
    """A copy of `video` scaled by `scale` (MJPG, same frame rate and frame count)."""
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    out = folder / f"{video.stem}.avi"
    writer: cv2.VideoWriter | None = None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        if writer is None:
            size = (small.shape[1], small.shape[0])
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
        writer.write(small)
    capture.release()
    if writer is not None:
        writer.release()
    return out


if __name__ == "__main__":
    main()
