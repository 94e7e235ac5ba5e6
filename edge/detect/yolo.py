"""Ultralytics YOLO detect and pose models exported to ONNX, run with onnxruntime."""

import ast
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import supervision as sv

from edge.detect.base import CLASS_NAME, CLASS_SCORES, KEYPOINTS, Detector, DetectorInfo
from edge.detect.letterbox import Letterbox, input_shape, letterbox
from edge.detect.nms import nms
from edge.detect.sessions import shared_session


class ModelFileError(Exception):
    """A model file that is missing or is not a YOLO ONNX export; the message says what to do."""


class YoloOnnxDetector(Detector):
    """YOLOv8/YOLO11 detect or pose head (output 1×(4+C+K·3)×N), class names from metadata."""

    def __init__(
        self,
        path: Path,
        *,
        input_size: int = 416,
        threads: int = 2,
        confidence: float = 0.25,
        iou: float = 0.5,
        max_det: int = 50,
        name: str | None = None,
    ) -> None:
        if not path.is_file():
            raise ModelFileError(
                f"model file {path} does not exist: run `shouwang models prepare` first"
            )
        self.session = shared_session(path, threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        if "names" not in meta:
            raise ModelFileError(f"{path} has no class names in its metadata: not a YOLO export")
        names: dict[int, str] = ast.literal_eval(meta["names"])
        self.class_names = tuple(names[i] for i in sorted(names))
        kpt = ast.literal_eval(meta["kpt_shape"]) if "kpt_shape" in meta else None
        self.keypoint_shape: tuple[int, int] | None = tuple(kpt) if kpt else None
        self.stride = int(meta.get("stride", 32))
        shape = self.session.get_inputs()[0].shape
        self.fixed = all(isinstance(d, int) for d in shape[2:])
        self.input_size = int(shape[2]) if self.fixed else input_size
        self.input_name = self.session.get_inputs()[0].name
        self.confidence, self.iou, self.max_det = confidence, iou, max_det
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        self.info = DetectorInfo(
            name=name or path.stem,
            version=f"{meta.get('version', '?')}-{digest}",
            class_names=self.class_names,
            input_size=self.input_size,
        )

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        """Raw network output for a prepared input tensor, as N×(4+C+K·3)."""
        output = self.session.run(None, {self.input_name: tensor})[0]
        return np.asarray(output[0].T)

    def prepare(self, frame: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        """The input tensor for `frame` and the letterbox that maps results back."""
        shape = input_shape(frame.shape[:2], self.input_size, self.stride, self.fixed)
        return letterbox(frame, shape)

    def detect(self, frame: np.ndarray) -> sv.Detections:
        """Boxes, class ids, per-class scores and (pose models) keypoints in frame pixels."""
        tensor, box = self.prepare(frame)
        rows = self.infer(tensor)
        n_classes = len(self.class_names)
        scores = rows[:, 4 : 4 + n_classes]
        best = scores.max(axis=1)
        passed = best >= self.confidence
        rows, scores, best = rows[passed], scores[passed], best[passed]
        if not len(rows):
            return self._empty()
        cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
        xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        keep = nms(xyxy, best, self.iou, self.max_det)
        frame_h, frame_w = frame.shape[:2]
        xyxy = box.to_frame(xyxy[keep])
        xyxy[:, 0::2] = xyxy[:, 0::2].clip(0, frame_w)
        xyxy[:, 1::2] = xyxy[:, 1::2].clip(0, frame_h)
        class_id = scores[keep].argmax(axis=1)
        data: dict[str, Any] = {
            CLASS_SCORES: scores[keep].astype(np.float32),
            CLASS_NAME: np.asarray(self.class_names)[class_id],
        }
        if self.keypoint_shape:
            k, dims = self.keypoint_shape
            kpts = rows[keep, 4 + n_classes :].reshape(-1, k, dims).astype(np.float32)
            kpts[..., :2] = box.to_frame(kpts[..., :2])
            data[KEYPOINTS] = kpts
        return sv.Detections(
            xyxy=xyxy, confidence=best[keep].astype(np.float32), class_id=class_id, data=data
        )

    def _empty(self) -> sv.Detections:
        n_classes = len(self.class_names)
        data: dict[str, Any] = {
            CLASS_SCORES: np.empty((0, n_classes), np.float32),
            CLASS_NAME: np.empty((0,), dtype=str),
        }
        if self.keypoint_shape:
            data[KEYPOINTS] = np.empty((0, *self.keypoint_shape), np.float32)
        return sv.Detections(
            xyxy=np.empty((0, 4), np.float32),
            confidence=np.empty((0,), np.float32),
            class_id=np.empty((0,), int),
            data=data,
        )
