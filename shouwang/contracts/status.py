"""Edge agent liveness: retained status (also the MQTT last will) and periodic heartbeats."""

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from shouwang.contracts.common import (
    DisplayName,
    Identifier,
    MessageId,
    MessageKind,
    ShortText,
    StrictModel,
    Timestamp,
    WireModel,
)


class EdgeState(StrEnum):
    """Connection state an edge agent announces on its status topic."""

    ONLINE = "online"
    OFFLINE = "offline"


class EdgeStatus(WireModel):
    """Published retained on `shouwang/v1/<site>/<edge>/status`: `online` after connecting,
    `offline` as the MQTT last will (or on a clean stop). The `session_id` is new for each
    connection, so a retained status delivered again is recognised as the same one."""

    KIND: ClassVar[MessageKind] = MessageKind.STATUS
    SOURCE_FIELD: ClassVar[str] = "edge"

    edge: Identifier
    state: EdgeState
    session_id: MessageId
    connected_at: Timestamp = Field(
        description="When this session's connection was made; the same in its `online` and its "
        "`offline` (last will) message, so later sessions are told from earlier ones."
    )
    reason: ShortText | None = None

    @property
    def idempotency_key(self) -> str:
        return f"status:{self.site}:{self.edge}:{self.session_id}:{self.state}"


class CameraState(StrEnum):
    """What an edge agent knows about one of its cameras."""

    STARTING = "starting"
    ONLINE = "online"
    OFFLINE = "offline"


NonNegative = Annotated[float, Field(ge=0)]


class CameraHealth(StrictModel):
    """Per-camera figures inside a heartbeat."""

    state: CameraState
    name: DisplayName | None = None
    fps: NonNegative = Field(description="Frames analysed per second over the last interval.")
    dropped_frames: Annotated[int, Field(ge=0)] = 0
    last_frame_at: Timestamp | None = None
    error: ShortText | None = None
    clips_failed: Annotated[int, Field(ge=0)] = Field(
        default=0,
        description="Evidence clips not sent since the agent started: encoding failed or the "
        "clip was larger than the camera's `clip.max_bytes`.",
    )


class Heartbeat(WireModel):
    """Published every few seconds on `shouwang/v1/<site>/<edge>/heartbeat`."""

    KIND: ClassVar[MessageKind] = MessageKind.HEARTBEAT
    SOURCE_FIELD: ClassVar[str] = "edge"

    edge: Identifier
    session_id: MessageId
    sent_at: Timestamp
    uptime_s: NonNegative
    fps: NonNegative = Field(description="Frames analysed per second, all cameras together.")
    inference_ms: NonNegative = Field(description="Mean detector time per analysed frame.")
    dropped_frames: Annotated[int, Field(ge=0)] = 0
    queue_depth: Annotated[int, Field(ge=0)] = Field(
        default=0, description="Events waiting in the store-and-forward queue."
    )
    evicted: Annotated[int, Field(ge=0)] = Field(
        default=0,
        description="Messages the full store-and-forward queue had to drop since the agent "
        "started (snapshots first): local loss the back office must see.",
    )
    cameras: Annotated[dict[Identifier, CameraHealth], Field(max_length=256)] = Field(
        default_factory=dict
    )
    version: Annotated[str, StringConstraints(max_length=64)] | None = None
