"""Which models run, at what input size and with how many threads."""

from pathlib import Path

from pydantic import Field

from shouwang.settings import Section

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
"""The repository's `models/` folder, where `shouwang models prepare` writes."""


class FallModelConfig(Section):
    """The YOLOv8s Normal/Fall model, asked per tracked person when pose says "maybe down"."""

    enabled: bool = Field(
        True,
        title="Enabled",
        description="Ask the fall model for a second opinion on people the pose rule thinks "
        "may have fallen (and keep seeing them when the pose model loses them). About 3× the "
        "pose model per call, but only called while someone is a fall candidate or down; "
        "see docs/edge.md for the measured trade-off.",
    )
    path: Path = Field(
        MODELS_DIR / "fall-yolov8s.onnx",
        title="Model file",
        description="ONNX file (committed; re-created by `shouwang models prepare`).",
    )
    input_size: int = Field(
        416,
        ge=160,
        le=1280,
        multiple_of=32,
        title="Input size",
        description="Longest side of the network input, in pixels.",
    )


class DetectorConfig(Section):
    """The person and keypoint detector shared by every camera on this box."""

    path: Path = Field(
        MODELS_DIR / "yolo11n-pose.onnx",
        title="Model file",
        description="YOLO pose model in ONNX (committed in the repository).",
    )
    input_size: int = Field(
        416,
        ge=160,
        le=1280,
        multiple_of=32,
        title="Input size",
        description="Longest side of the network input, in pixels: 416 finds people down to "
        "about 40 px tall; 640 finds smaller ones at 2.5× the cost.",
    )
    threads: int = Field(
        2,
        ge=1,
        le=64,
        title="Threads",
        description="onnxruntime intra-op threads (one session per model, shared by cameras).",
    )
    confidence: float = Field(
        0.2, gt=0, lt=1, title="Confidence", description="Minimum person score kept."
    )
    fall_model: FallModelConfig = Field(
        default_factory=FallModelConfig,
        title="Fall model",
        description="Second opinion on falls.",
    )
