"""Synthetic camera streams for the edge benchmarks, H.264-encoded like a camera's sub-stream.

- `duty_cycle_scenes`: an empty room with sensor noise, and people walking through it for a
  fixed share of every cycle (the motion duty); one file per phase, so cameras given different
  files see motion at different times, as independent village cameras do.
- `staggered_falls`: the UR Fall sample clip after a still lead-in of a different length per
  camera, so falls happen one after another on different cameras, one each.
"""

from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np

from edge.config import MotionConfig
from edge.motion import MotionGate
from edge.sources import read_file

ROOT = Path(__file__).resolve().parents[1]
PEOPLE_CLIP = ROOT / "samples" / "intel-one-by-one.mp4"
"""People walking to and from a table (768×432, 10 fps); its first frame is empty."""
FALL_CLIP = ROOT / "samples" / "urfd-fall-01.mp4"
"""A person falls in an office (320×240, 30 fps, 5.3 s; the fall starts at frame 82)."""


def write_h264(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: float,
    *,
    crf: int = 20,
    gop_s: float = 2.0,
    preset: str = "veryfast",
) -> Path:
    """Encode BGR frames as H.264 (x264, yuv420p, a key frame every `gop_s` as cameras do).
    A frame given again as the same array object is converted once."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=round(fps))
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": preset, "crf": str(crf), "g": str(round(fps * gop_s))}
        last: tuple[np.ndarray, av.VideoFrame] | None = None
        for image in frames:
            if not stream.width:
                stream.width, stream.height = image.shape[1], image.shape[0]
            if last is None or last[0] is not image:
                last = (image, av.VideoFrame.from_ndarray(image, format="bgr24"))
            container.mux(stream.encode(last[1]))
        container.mux(stream.encode())
    return path


def read_frames(video: Path) -> list[np.ndarray]:
    """Every frame of a (short) video."""
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    if not frames:
        raise OSError(f"cannot read video {video}")
    return frames


def busiest_window(frames: list[np.ndarray], length: int) -> int:
    """Start of the `length` consecutive frames with the most changed pixels."""
    grey = [
        cv2.cvtColor(cv2.resize(f, (96, 54), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        for f in frames
    ]
    changed = [0.0] + [float(np.mean(cv2.absdiff(a, b) > 25)) for a, b in pairwise(grey)]
    sums = np.convolve(changed, np.ones(length), "valid")
    return int(np.argmax(sums))


def duty_cycle_scenes(
    folder: Path,
    phases: int,
    *,
    cycle_s: float = 20.0,
    motion_s: float = 2.0,
    size: tuple[int, int] = (640, 360),
    fps: float = 25.0,
) -> list[Path]:
    """`phases` looping videos of `cycle_s` seconds: `motion_s` of people walking (the busiest
    stretch of the Intel sample), the rest the empty room with sensor noise; video k starts
    k/phases of a cycle later."""
    source = read_frames(PEOPLE_CLIP)
    source_fps = cv2.VideoCapture(str(PEOPLE_CLIP)).get(cv2.CAP_PROP_FPS) or 10.0
    first = busiest_window(source, round(motion_s * source_fps))
    rng = np.random.default_rng(0)
    empty = cv2.resize(source[0], size, interpolation=cv2.INTER_AREA).astype(np.float32)
    still = [
        np.clip(empty + rng.normal(0, 3, empty.shape), 0, 255).astype(np.uint8)
        for _ in range(round(fps))
    ]
    cycle = round(cycle_s * fps)
    moving = round(motion_s * fps)

    def frame(index: int) -> np.ndarray:
        if index < moving:
            image = source[first + int(index * source_fps / fps)]
            return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return still[index % len(still)]

    paths = []
    for phase in range(phases):
        shift = round(phase * cycle / phases)
        frames = (frame((index - shift) % cycle) for index in range(cycle))
        paths.append(write_h264(folder / f"duty-{phase:02d}.mp4", frames, fps))
    return paths


def motion_share(video: Path, detect_fps: float = 5.0) -> float:
    """Share of the frames sampled at `detect_fps` in which the default motion gate sees
    motion (what the duty cycle means to the agent)."""
    gate = MotionGate(MotionConfig())
    seen = moved = 0
    for sampled in read_file(video, detect_fps):
        gate.should_detect(sampled.image, sampled.t, tracking=False)
        seen += 1
        moved += gate.motion
    return moved / seen if seen else 0.0


def staggered_falls(
    folder: Path,
    count: int,
    *,
    lead_s: float,
    gap_s: float,
    lying_s: float = 2.0,
    after_s: float = 20.0,
) -> list[Path]:
    """One video per camera, all of one length: the fall clip's first frame (the person
    standing) held for `lead_s + k * gap_s`, the clip, its last frame (the person lying) for
    `lying_s`, then the first frame again until `after_s` past the last camera's fall. So each
    camera shows one fall during the run, and nobody stays down long enough to keep the fall
    model busy on every camera at once."""
    clip = read_frames(FALL_CLIP)
    fps = cv2.VideoCapture(str(FALL_CLIP)).get(cv2.CAP_PROP_FPS) or 30.0
    total = round((lead_s + (count - 1) * gap_s + lying_s + after_s) * fps) + len(clip)
    standing, lying = clip[0], clip[-1]
    paths = []
    for k in range(count):
        hold = round((lead_s + k * gap_s) * fps)
        frames = [standing] * hold + clip + [lying] * round(lying_s * fps)
        frames += [standing] * (total - len(frames))
        path = folder / f"fall-{k:02d}.mp4"
        paths.append(write_h264(path, frames, fps, preset="ultrafast"))
    return paths
