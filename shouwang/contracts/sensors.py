"""IoT sensor readings and button presses on `shouwang/v1/<site>/<device>/sensor`."""

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from shouwang.contracts.common import (
    AttributeValue,
    DisplayName,
    Identifier,
    MessageId,
    MessageKind,
    Timestamp,
    WireModel,
)


class SensorType(StrEnum):
    """Kinds of village IoT device the rules understand. Flags read `true` for the alarm or the
    activity (button pressed, door open, smoke, water on the floor, motion) and `false` for
    the clear state; `water_level` (m) and `temperature` (°C) are numbers."""

    SOS_BUTTON = "sos_button"
    DOOR_CONTACT = "door_contact"
    SMOKE = "smoke"
    WATER_LEVEL = "water_level"
    MOTION = "motion"
    TEMPERATURE = "temperature"
    # Added for Zigbee2MQTT and Home Assistant devices (issue 15).
    WATER_LEAK = "water_leak"


class SensorReading(WireModel):
    """One reading of one device. `value` is a number (water level, temperature) or a flag
    (button pressed, door open, smoke, water leak, motion). A device's periodic report that
    repeats its previous value carries `attributes.repeated: true` (a sign of life, not an
    activity)."""

    KIND: ClassVar[MessageKind] = MessageKind.SENSOR
    SOURCE_FIELD: ClassVar[str] = "device"

    reading_id: MessageId = Field(
        description="Unique per device (a UUID, or a counter that survives reboots)."
    )
    device: Identifier
    device_name: DisplayName | None = Field(
        default=None, description="Where it is fitted (卧室门, 床头), shown instead of its id."
    )
    sensor_type: SensorType
    observed_at: Timestamp
    value: bool | float
    unit: Annotated[str, StringConstraints(max_length=16)] | None = None
    battery_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    attributes: Annotated[
        dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")], AttributeValue],
        Field(max_length=32),
    ] = Field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return f"sensor:{self.site}:{self.device}:{self.reading_id}"
