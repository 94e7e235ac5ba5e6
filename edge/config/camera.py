"""One camera: where its video comes from, how often it is analysed, its zones and thresholds."""

from typing import Annotated, Literal

from pydantic import Field

from edge.config.analysers import (
    CalibrationConfig,
    FallConfig,
    InactivityConfig,
    LoiteringConfig,
    UnattendedConfig,
)
from edge.config.clip import ClipConfig
from edge.config.zones import ZoneConfig
from shouwang.contracts.common import DisplayName, Identifier
from shouwang.settings import Section


class MotionConfig(Section):
    """Frame differencing on a small grey copy of the frame; no motion, no inference."""

    enabled: bool = Field(True, title="Enabled", description="Skip inference on still scenes.")
    width: int = Field(
        96, ge=32, le=640, title="Width", description="Width of the downscaled copy compared."
    )
    pixel_threshold: int = Field(
        25,
        ge=1,
        le=255,
        title="Pixel threshold",
        description="Grey-level change that makes a pixel count as changed.",
    )
    area: float = Field(
        0.002,
        gt=0,
        lt=1,
        title="Area",
        description="Fraction of changed pixels that counts as motion.",
    )
    tracked_check_s: float = Field(
        1.0,
        gt=0,
        le=60,
        title="Tracked check",
        description="While people are tracked and the scene is still, run the detector at "
        "least this often (seconds) so a person lying motionless is not forgotten.",
    )
    idle_check_s: float = Field(
        10.0,
        gt=0,
        le=600,
        title="Idle check",
        description="Run the detector at least this often on a still, empty scene.",
    )


class CameraConfig(Section):
    """A camera and what is analysed on it."""

    id: Identifier = Field(title="Id", description="Camera id, used in topics and events.")
    name: DisplayName | None = Field(
        None,
        title="Name",
        description="What people call the camera (堂屋, 村口): sent in its events and "
        "heartbeats and shown on pages, pushes and the terminal instead of its id.",
    )
    source: str | int = Field(
        title="Source",
        description="rtsp:// or http(s):// URL (use the camera's low-resolution sub-stream), "
        "a video file path, or a USB device number.",
    )
    rtsp_transport: Literal["tcp", "udp"] | None = Field(
        "tcp",
        title="RTSP transport",
        description="RTSP over TCP (default: survives lossy links and NAT) or UDP; null lets "
        "FFmpeg choose (UDP, then TCP).",
    )
    enabled: bool = Field(True, title="Enabled", description="Run this camera.")
    detect_fps: float = Field(
        5.0,
        gt=0,
        le=30,
        title="Detect fps",
        description="Frames analysed per second; the others are grabbed and discarded "
        "without being decoded to colour.",
    )
    input_size: int | None = Field(
        None,
        ge=160,
        le=1280,
        multiple_of=32,
        title="Input size",
        description="Pose model input for this camera (longest side, pixels); default "
        "`detector.input_size`. Raise it for a camera whose people are small: a far scene, a "
        "doorbell fisheye, a low-resolution stream (docs/edge.md gives accuracy and cost).",
    )
    reconnect_max_s: float = Field(
        60.0,
        ge=1,
        title="Reconnect back-off",
        description="Longest wait between reconnection attempts (doubling from 1 s).",
    )
    offline_after_s: float = Field(
        10.0,
        gt=0,
        title="Offline after",
        description="Seconds without a frame before the camera is reported offline.",
    )
    motion: MotionConfig = Field(default_factory=MotionConfig, title="Motion gate")
    zones: Annotated[dict[Identifier, ZoneConfig], Field(max_length=64)] = Field(
        default_factory=dict,
        title="Zones",
        description="Named polygon zones. None: the whole image is one zone called `frame`.",
    )
    fall: FallConfig = Field(default_factory=FallConfig, title="Fall")
    loitering: LoiteringConfig = Field(
        default_factory=LoiteringConfig,
        title="Loitering",
    )
    unattended: UnattendedConfig = Field(
        default_factory=UnattendedConfig,
        title="Unattended child",
    )
    inactivity: InactivityConfig = Field(
        default_factory=InactivityConfig,
        title="Inactivity",
    )
    clip: ClipConfig = Field(default_factory=ClipConfig, title="Evidence clips")
    calibration: CalibrationConfig | None = Field(
        None,
        title="Calibration",
        description="Person height by image row; without it every person counts as an adult "
        "and unattended-child detection is off.",
    )

    def zone_names(self) -> dict[str, str]:
        """The display names of the zones that have one, by zone id."""
        return {zone_id: zone.name for zone_id, zone in self.zones.items() if zone.name}
