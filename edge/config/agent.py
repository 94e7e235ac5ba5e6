"""The edge agent's whole config file."""

from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from edge.config.camera import CameraConfig
from edge.config.detector import DetectorConfig
from edge.publish.config import PublisherSettings
from shouwang.contracts.common import Identifier
from shouwang.settings import ConfigError, ServiceSettings, TimeZone


class EdgeSettings(ServiceSettings):
    """Config of `shouwang edge run`: who this box is, the broker, the models, the cameras."""

    model_config = SettingsConfigDict(
        env_prefix="SHOUWANG_", env_nested_delimiter="__", extra="forbid"
    )

    edge_id: Identifier = Field(
        "edge-01", title="Edge id", description="This box's id (topics, events, heartbeats)."
    )
    site: Identifier = Field(
        "site-01", title="Site", description="Site (village or township) id used in topics."
    )
    publish: PublisherSettings = Field(
        default_factory=PublisherSettings,
        title="Publish",
        description="Store-and-forward queue and heartbeat.",
    )
    detector: DetectorConfig = Field(
        default_factory=DetectorConfig,
        title="Detector",
    )
    cameras: Annotated[list[CameraConfig], Field(max_length=256)] = Field(
        default_factory=list, title="Cameras"
    )
    timezone: TimeZone = Field(
        "Asia/Shanghai",
        title="Time zone",
        description="IANA time zone of the site, for event times and inactivity hours.",
    )

    @model_validator(mode="after")
    def _unique_cameras(self) -> Self:
        ids = [c.id for c in self.cameras]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"camera ids must be unique; repeated: {', '.join(duplicates)}")
        return self


def load_settings(path: Path | None, **overrides: Any) -> EdgeSettings:
    """Read and validate the edge config; ConfigError names the file, key path and problem."""
    settings = EdgeSettings.load(path, **overrides)
    if not settings.cameras and path is not None:
        raise ConfigError(f"config file {path}: cameras: at least one camera is required")
    return settings
