"""Building the detectors a config asks for."""

import structlog

from edge.config.detector import DetectorConfig
from edge.detect.base import Detector
from edge.detect.yolo import YoloOnnxDetector

log = structlog.get_logger(__name__)


def build_detectors(
    config: DetectorConfig, input_size: int | None = None
) -> tuple[Detector, Detector | None]:
    """The person/pose detector (at `input_size`, else the config's) and, when enabled and
    prepared, the fall model. Detectors of one model file share its onnxruntime session.

    A missing fall model is logged and skipped: falls are then judged on pose alone.
    """
    detector = YoloOnnxDetector(
        config.path,
        input_size=input_size or config.input_size,
        threads=config.threads,
        confidence=config.confidence,
    )
    fall = config.fall_model
    if not fall.enabled:
        return detector, None
    if not fall.path.is_file():
        log.warning(
            "fall model missing, judging falls on pose alone",
            path=str(fall.path),
            fix="run `shouwang models prepare`",
        )
        return detector, None
    second = YoloOnnxDetector(
        fall.path, input_size=fall.input_size, threads=config.threads, confidence=0.2
    )
    return detector, second
