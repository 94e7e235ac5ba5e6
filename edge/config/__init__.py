"""Edge agent configuration: pydantic models whose fields document themselves."""

from edge.config.agent import EdgeSettings, load_settings
from edge.config.analysers import (
    CalibrationConfig,
    FallConfig,
    InactivityConfig,
    LoiteringConfig,
    UnattendedConfig,
)
from edge.config.camera import CameraConfig, MotionConfig
from edge.config.clip import ClipConfig
from edge.config.detector import DetectorConfig, FallModelConfig
from edge.config.zones import WHOLE_FRAME, ZoneConfig

__all__ = [
    "WHOLE_FRAME",
    "CalibrationConfig",
    "CameraConfig",
    "ClipConfig",
    "DetectorConfig",
    "EdgeSettings",
    "FallConfig",
    "FallModelConfig",
    "InactivityConfig",
    "LoiteringConfig",
    "MotionConfig",
    "UnattendedConfig",
    "ZoneConfig",
    "load_settings",
]
