"""Object detection: a small detector interface and the YOLO ONNX implementation."""

from edge.detect.base import Detector, DetectorInfo
from edge.detect.yolo import YoloOnnxDetector

__all__ = ["Detector", "DetectorInfo", "YoloOnnxDetector"]
