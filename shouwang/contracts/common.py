"""Building blocks shared by every wire message: identifiers, times, the base model."""

from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

SCHEMA_VERSION: Literal[1] = 1
"""The payload schema version this code reads and writes (`schema_version` in every message)."""

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
    Field(
        description="Site, edge, camera, device or zone id: 1-64 of A-Z a-z 0-9 _ . - "
        "(safe as an MQTT topic level)."
    ),
]
MessageId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}$"),
    Field(
        description="Globally unique message id (a UUID is ideal): 8-128 of A-Z a-z 0-9 _ . : -. "
        "It is the idempotency key: the same id is stored once however often it arrives."
    ),
]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Timestamp = Annotated[
    AwareDatetime,
    Field(description="ISO 8601 time with an explicit offset, e.g. 2026-11-28T09:30:00+08:00."),
]
ShortText = Annotated[str, StringConstraints(max_length=500)]
DisplayName = Annotated[
    str,
    StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,100}$"),
    Field(
        description="What people call a camera, zone or sensor (堂屋, 村口池塘): 1-100 "
        "characters, no control characters; shown instead of its id."
    ),
]
AttributeValue = Annotated[
    bool | int | float | Annotated[str, StringConstraints(max_length=200)],
    Field(description="A flat JSON scalar."),
]


class MessageKind(StrEnum):
    """The last topic level: what a message is."""

    EVENT = "event"
    SENSOR = "sensor"
    STATUS = "status"
    HEARTBEAT = "heartbeat"
    SNAPSHOT = "snapshot"
    CLIP = "clip"


class StrictModel(BaseModel):
    """Strict types, no unknown fields, no NaN or infinity, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class WireModel(StrictModel):
    """Base of every top-level wire message."""

    schema_version: Literal[1] = Field(
        description="Payload schema version. Messages with another version are dead-lettered."
    )
    site: Identifier = Field(description="The site (village or township installation) id.")

    KIND: ClassVar[MessageKind]
    SOURCE_FIELD: ClassVar[str]
    """Name of the field that must equal the topic's <source> level."""

    @property
    def source(self) -> str:
        """The id the topic's <source> level must carry (camera, device or edge)."""
        return str(getattr(self, self.SOURCE_FIELD))

    @property
    def idempotency_key(self) -> str | None:
        """Key under which this message is stored once; None if it is never de-duplicated."""
        return None
