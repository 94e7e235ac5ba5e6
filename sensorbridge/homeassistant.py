"""Home Assistant's MQTT Statestream as the bridge reads it: `<base>/<domain>/<object_id>/state`
carries an entity's state (`on`, `off`, `21.5`, an event's time), published when it changes.
No I/O."""

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sensorbridge.readings import Unreadable
from shouwang.contracts import SensorType

OBJECT_ID = re.compile(r"^[a-z0-9_]+$")
DOMAIN = re.compile(r"^[a-z_]+$")
NO_STATE = frozenset({"unknown", "unavailable"})
"""States Home Assistant gives an entity it has no value for."""
FLAG_KINDS = frozenset(
    {SensorType.DOOR_CONTACT, SensorType.MOTION, SensorType.SMOKE, SensorType.WATER_LEAK}
)
NUMBER_KINDS = frozenset({SensorType.TEMPERATURE, SensorType.WATER_LEVEL})


@dataclass(frozen=True, slots=True)
class StateTopic:
    """The entity whose state a topic carries."""

    entity_id: str
    domain: str


def parse_topic(base: str, topic: str) -> StateTopic | None:
    """The entity of a state topic under `base`, or None for anything else (attribute and
    timestamp topics)."""
    prefix = f"{base}/"
    if not topic.startswith(prefix):
        return None
    parts = topic[len(prefix) :].split("/")
    if len(parts) != 3 or parts[2] != "state":
        return None
    domain, object_id = parts[0], parts[1]
    if not DOMAIN.fullmatch(domain) or not OBJECT_ID.fullmatch(object_id):
        return None
    return StateTopic(f"{domain}.{object_id}", domain)


def state_text(payload: bytes) -> str:
    """The state as text: Statestream publishes it plain (`on`) or JSON-encoded (`"on"`)."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise Unreadable("state is not UTF-8 text") from None
    if text.startswith('"'):
        try:
            decoded = json.loads(text)
        except json.JSONDecodeError:
            raise Unreadable(f"state {text[:50]!r} is not valid JSON text") from None
        if not isinstance(decoded, str):
            raise Unreadable(f"state {text[:50]!r} is not text")
        text = decoded
    return text


def read_state(kind: SensorType, text: str) -> bool | float | None:
    """The value of an entity mapped to `kind`: a binary sensor's `on` is `True` (door open,
    motion, smoke, moisture); an event entity's new state (the time it fired) is a press; None
    when Home Assistant has no state (`unknown`, `unavailable`)."""
    if text in NO_STATE:
        return None
    if kind in FLAG_KINDS:
        if text not in ("on", "off"):
            raise Unreadable(f"state {text[:50]!r} is not on/off")
        return text == "on"
    if kind in NUMBER_KINDS:
        try:
            number = float(text)
        except ValueError:
            raise Unreadable(f"state {text[:50]!r} is not a number") from None
        if number != number or abs(number) > 1e6:
            raise Unreadable(f"state {text[:50]!r} is out of range")
        return number
    # An SOS button: an `event` entity (its state is when it last fired) or an on/off sensor.
    if text in ("on", "off"):
        return text == "on"
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise Unreadable(f"state {text[:50]!r} is neither on/off nor an event time") from None
    return True
