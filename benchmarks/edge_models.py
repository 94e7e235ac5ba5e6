"""Network time of each model file: median of 20 `session.run` calls per input size and
thread count, on a real 4:3 frame (for the model cards).

    .venv/bin/python benchmarks/edge_models.py
"""

import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from edge.config.detector import MODELS_DIR
from edge.detect.letterbox import input_shape, letterbox
from edge.detect.sessions import shared_session
from edge.evaluate import data_dir

ROOT = Path(__file__).resolve().parents[1]


def frame() -> np.ndarray:
    """A 640×480 frame of a dev clip (grey when the footage is absent)."""
    capture = cv2.VideoCapture(str(data_dir(ROOT) / "fall" / "upfall-a01-cam1.mp4"))
    ok, image = capture.read()
    capture.release()
    return image if ok else np.full((480, 640, 3), 114, np.uint8)


def main() -> None:
    """Print ms per call for every model file present."""
    image = frame()
    for name in ("yolo11n-pose.onnx", "fall-yolov8s.onnx"):
        path = MODELS_DIR / name
        if not path.is_file():
            print(f"{name}: missing (run `shouwang models prepare`)")
            continue
        for threads in (1, 2):
            session = shared_session(path, threads)
            fixed = all(isinstance(d, int) for d in session.get_inputs()[0].shape[2:])
            for size in (640,) if fixed else (320, 416, 640):
                tensor, _ = letterbox(image, input_shape(image.shape[:2], size, 32, fixed))
                feed = {session.get_inputs()[0].name: tensor}
                session.run(None, feed)
                times = []
                for _ in range(20):
                    started = time.perf_counter()
                    session.run(None, feed)
                    times.append(1000 * (time.perf_counter() - started))
                shape = "×".join(str(d) for d in tensor.shape[2:])
                print(
                    f"{name:20} input {shape:8} threads {threads}: "
                    f"{statistics.median(times):6.1f} ms"
                )


if __name__ == "__main__":
    main()
