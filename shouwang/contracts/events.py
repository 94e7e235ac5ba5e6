"""Behaviour events published by edge agents on `shouwang/v1/<site>/<camera>/event`."""

from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import Field, StringConstraints, model_validator

from shouwang.contracts.common import (
    AttributeValue,
    DisplayName,
    Identifier,
    MessageId,
    MessageKind,
    StrictModel,
    Tag,
    Timestamp,
    WireModel,
)

UnitInterval = Annotated[float, Field(ge=0.0, le=1.0)]
WHOLE_FRAME_ZONE = "frame"
"""The zone of an event on a camera that defines none: the whole image (not a place)."""


class EventType(StrEnum):
    """What was recognised, by an edge agent's analysers or by the camera itself."""

    FALL = "fall"
    PERSON_DOWN = "person_down"
    LOITERING = "loitering"
    UNATTENDED_CHILD = "unattended_child"
    UNATTENDED_ELDER = "unattended_elder"
    INACTIVITY = "inactivity"
    ZONE_INTRUSION = "zone_intrusion"
    CAMERA_OFFLINE = "camera_offline"
    CAMERA_ONLINE = "camera_online"
    # Camera-native analytics (GB/T 28181 alarms, Hikvision ISAPI, Dahua events).
    INTRUSION = "intrusion"
    TRIPWIRE = "tripwire"
    REGION_ENTRANCE = "region_entrance"
    REGION_EXIT = "region_exit"
    CROWD = "crowd"
    MOTION = "motion"
    OBJECT_LEFT = "object_left"
    OBJECT_REMOVED = "object_removed"
    VIDEO_TAMPER = "video_tamper"
    CAMERA_FAULT = "camera_fault"
    CAMERA_ALARM = "camera_alarm"
    """A camera alarm with no finer type (manual alarm button, alarm input, other)."""


class EventOrigin(StrEnum):
    """Who recognised the event."""

    ANALYSER = "analyser"
    """Shouwang's own analysers on an edge box."""
    CAMERA = "camera"
    """The camera's (or NVR's) own analytics, reported over GB/T 28181 or the vendor's API."""


class Phase(StrEnum):
    """Where in its episode an event is: one `start`, any number of `update`, one `end`."""

    START = "start"
    UPDATE = "update"
    END = "end"


class BoundingBox(StrictModel):
    """Box in frame coordinates normalised to 0..1 (x right, y down)."""

    x1: UnitInterval
    y1: UnitInterval
    x2: UnitInterval
    y2: UnitInterval

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.x2 < self.x1 or self.y2 < self.y1:
            raise ValueError("x2/y2 must not be smaller than x1/y1")
        return self


class ModelRef(StrictModel):
    """The detector model that produced an event."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class SnapshotRef(StrictModel):
    """Describes the JPEG published separately on the camera's `snapshot` topic."""

    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    bytes: Annotated[int, Field(gt=0)]
    width: Annotated[int, Field(gt=0, le=16384)]
    height: Annotated[int, Field(gt=0, le=16384)]
    content_type: Annotated[str, StringConstraints(pattern=r"^image/jpeg$")] = "image/jpeg"


class BehaviourEvent(WireModel):
    """A behaviour recognised on a camera (fall, loitering, child unattended, …)."""

    KIND: ClassVar[MessageKind] = MessageKind.EVENT
    SOURCE_FIELD: ClassVar[str] = "camera"

    event_id: MessageId
    episode_id: MessageId = Field(
        description="event_id of the episode's `start` event; shared by its updates and its end."
    )
    type: EventType
    phase: Phase
    origin: EventOrigin = Field(
        default=EventOrigin.ANALYSER,
        description="Who recognised it: Shouwang's analysers or the camera's own analytics.",
    )
    edge: Identifier
    camera: Identifier
    camera_name: DisplayName | None = None
    observed_at: Timestamp = Field(description="When the frame that decided this event was taken.")
    started_at: Timestamp = Field(description="When the episode began.")
    confidence: UnitInterval
    zone: Identifier | None = None
    zone_name: DisplayName | None = None
    zone_tags: Annotated[tuple[Tag, ...], Field(max_length=16)] = ()
    track_id: Annotated[int, Field(ge=0)] | None = None
    bbox: BoundingBox | None = None
    attributes: Annotated[
        dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")], AttributeValue],
        Field(max_length=32, description="Behaviour details: dwell_s, down_s, age_group, …"),
    ] = Field(default_factory=dict)
    model: ModelRef | None = None
    snapshot: SnapshotRef | None = None

    @model_validator(mode="after")
    def _times_ordered(self) -> Self:
        if self.started_at > self.observed_at:
            raise ValueError("started_at must not be after observed_at")
        return self

    @property
    def idempotency_key(self) -> str:
        return f"event:{self.event_id}"
