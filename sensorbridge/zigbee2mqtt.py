"""Zigbee2MQTT's MQTT API as the bridge reads it: topics, device state payloads, the retained
device list. No I/O; every function is tested with the payloads real devices publish.

A device publishes its whole (cached) state as one JSON object on `<base>/<friendly_name>`
whenever a value changes or it checks in, e.g. an Aqara door sensor:
`{"battery": 100, "contact": false, "linkquality": 120, "voltage": 3025}`.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sensorbridge.readings import Unreadable
from shouwang.contracts import SensorType

IEEE = re.compile(r"^0x[0-9a-fA-F]{16}$")
MAX_CLOCK_AHEAD = timedelta(minutes=5)
MAX_AGE = timedelta(days=2)
"""A `last_seen` further ahead of the bridge's clock, or older, is not believed."""


class TopicKind(StrEnum):
    """What a topic under a Zigbee2MQTT base carries."""

    STATE = "state"
    AVAILABILITY = "availability"
    COMMAND = "command"
    DEVICE_LIST = "device_list"
    GROUP_LIST = "group_list"
    BRIDGE = "bridge"


@dataclass(frozen=True, slots=True)
class Z2mTopic:
    """A topic under a base (`zigbee2mqtt`): what it is and whose (the friendly name)."""

    base: str
    kind: TopicKind
    name: str = ""


def parse_topic(base: str, topic: str) -> Z2mTopic | None:
    """The topic's kind and device, or None if it is not under `base`. Friendly names may
    contain `/` (`kitchen/door`); `/set`, `/get` and `/availability` end a device's topic."""
    prefix = f"{base}/"
    if not topic.startswith(prefix) or topic == prefix:
        return None
    rest = topic[len(prefix) :]
    if rest == "bridge/devices":
        return Z2mTopic(base, TopicKind.DEVICE_LIST)
    if rest == "bridge/groups":
        return Z2mTopic(base, TopicKind.GROUP_LIST)
    if rest == "bridge" or rest.startswith("bridge/"):
        return Z2mTopic(base, TopicKind.BRIDGE)
    parts = rest.split("/")
    if len(parts) >= 2 and parts[-1] == "availability":
        return Z2mTopic(base, TopicKind.AVAILABILITY, "/".join(parts[:-1]))
    for at in (-1, -2):
        if len(parts) > -at and parts[at] in ("set", "get"):
            return Z2mTopic(base, TopicKind.COMMAND, "/".join(parts[:at]))
    return Z2mTopic(base, TopicKind.STATE, rest)


def normalise_address(name: str) -> str:
    """IEEE addresses compare in lower case; friendly names as they are."""
    return name.lower() if IEEE.fullmatch(name) else name


def parse_state(payload: bytes) -> dict[str, Any]:
    """A device state payload: a JSON object."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Unreadable(f"not a JSON object but {type(data).__name__}")
    return data


KIND_PROPERTIES: dict[SensorType, tuple[str, ...]] = {
    SensorType.DOOR_CONTACT: ("contact",),
    SensorType.MOTION: ("occupancy", "presence"),
    SensorType.WATER_LEAK: ("water_leak",),
    SensorType.SMOKE: ("smoke",),
    SensorType.TEMPERATURE: ("temperature",),
    SensorType.WATER_LEVEL: ("liquid_depth",),
    SensorType.SOS_BUTTON: ("action",),
}
"""Where each sensor kind's value is in a Zigbee2MQTT state payload (first one present wins)."""
UNITS = {SensorType.TEMPERATURE: "°C", SensorType.WATER_LEVEL: "m"}
NOT_A_PRESS = frozenset({"", "release"})
"""Button actions that are not a press: the empty action some setups send after each action, and
the release that follows a hold (the hold was the press)."""


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Unreadable(f"{name} is {value!r}, not true/false")
    return value


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise Unreadable(f"{name} is {value!r}, not a number")
    if abs(value) > 1e6:
        raise Unreadable(f"{name} is {value!r}, out of range")
    return float(value)


def read_kind(kind: SensorType, state: dict[str, Any]) -> bool | float | None:
    """The value of `kind` in a state payload: door open, motion, leak, smoke and a button press
    are `True`; None when the payload does not carry it (a check-in, a battery report)."""
    for name in KIND_PROPERTIES[kind]:
        if name not in state or state[name] is None:
            continue
        raw = state[name]
        if kind is SensorType.DOOR_CONTACT:
            return not _flag(name, raw)  # contact true means closed
        if kind is SensorType.SOS_BUTTON:
            if not isinstance(raw, str):
                raise Unreadable(f"action is {raw!r}, not text")
            return None if raw in NOT_A_PRESS else True
        if kind in (SensorType.TEMPERATURE, SensorType.WATER_LEVEL):
            return _number(name, raw)
        return _flag(name, raw)
    return None


METADATA = {
    "linkquality": "linkquality",
    "voltage": "voltage_mv",
    "tamper": "tamper",
    "humidity": "humidity_pct",
    "illuminance_lux": "illuminance_lux",
    "device_temperature": "device_temperature_c",
    "battery_low": "battery_low",
}
"""State properties copied into the reading's attributes (scalars only), under these names."""
KNOWN = frozenset(
    {
        *METADATA,
        *(name for names in KIND_PROPERTIES.values() for name in names),
        "battery",
        "battery_state",
        "last_seen",
        "illuminance",
        "power_outage_count",
        "update",
        "update_available",
        "elapsed",
        "no_occupancy_since",
    }
)
"""Properties the bridge recognises; a payload with none of them is not a device's state."""


def battery_pct(state: dict[str, Any]) -> float | None:
    """Remaining battery in %, if reported (clamped to 0–100; devices overshoot)."""
    raw = state.get("battery")
    if raw is None:
        return None
    return min(100.0, max(0.0, _number("battery", raw)))


def attributes(kind: SensorType, state: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """Health and context values of a state payload for a reading of `kind`."""
    found: dict[str, bool | int | float | str] = {}
    for name, key in METADATA.items():
        value = state.get(name)
        if isinstance(value, bool | int | float) and value == value:
            found[key] = value
    if state.get("battery_state") in ("low", "medium", "high"):
        found["battery_low"] = state["battery_state"] == "low"
    if kind is SensorType.SOS_BUTTON and isinstance(state.get("action"), str) and state["action"]:
        found["action"] = state["action"][:64]
    return found


def observed_at(state: dict[str, Any], received: datetime) -> datetime:
    """When the device was heard: `last_seen` (ISO 8601 with offset, or epoch ms, as Zigbee2MQTT's
    `advanced.last_seen` writes it) when present and believable, else when it was received."""
    raw = state.get("last_seen")
    seen: datetime | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seen = datetime.fromtimestamp(raw / 1000, UTC)
    elif isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        seen = parsed if parsed is not None and parsed.tzinfo is not None else None
    if seen is None or seen > received + MAX_CLOCK_AHEAD or seen < received - MAX_AGE:
        return received
    return seen


def suggest_kinds(properties: set[str]) -> list[str]:
    """Sensor kinds a device with these state properties looks like. A door or leak sensor
    reports its chip's temperature too, so temperature counts only without another kind."""
    primary = [
        kind.value
        for kind, names in KIND_PROPERTIES.items()
        if kind is not SensorType.TEMPERATURE and properties & set(names)
    ]
    if primary:
        return primary
    return [SensorType.TEMPERATURE.value] if "temperature" in properties else []


@dataclass(frozen=True, slots=True)
class Z2mDevice:
    """A device in Zigbee2MQTT's retained device list (`<base>/bridge/devices`)."""

    ieee_address: str
    friendly_name: str
    model: str = ""
    kinds: tuple[str, ...] = ()
    """Sensor kinds its exposes suggest."""


def _expose_properties(exposes: Any) -> set[str]:
    found: set[str] = set()
    for expose in exposes if isinstance(exposes, list) else []:
        if not isinstance(expose, dict):
            continue
        if isinstance(expose.get("property"), str):
            found.add(expose["property"])
        found |= _expose_properties(expose.get("features"))
    return found


def parse_device_list(payload: bytes) -> dict[str, Z2mDevice]:
    """The device list by friendly name (the coordinator and entries without an IEEE address
    are left out)."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"device list is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise Unreadable("device list is not a JSON array")
    devices: dict[str, Z2mDevice] = {}
    for entry in data:
        if not isinstance(entry, dict) or entry.get("type") == "Coordinator":
            continue
        ieee, name = entry.get("ieee_address"), entry.get("friendly_name")
        if not isinstance(ieee, str) or not IEEE.fullmatch(ieee) or not isinstance(name, str):
            continue
        raw = entry.get("definition")
        definition: dict[str, Any] = raw if isinstance(raw, dict) else {}
        model = " ".join(str(definition[key]) for key in ("vendor", "model") if definition.get(key))
        kinds = tuple(suggest_kinds(_expose_properties(definition.get("exposes"))))
        devices[name] = Z2mDevice(ieee.lower(), name, model[:100], kinds)
    return devices


def parse_group_names(payload: bytes) -> set[str]:
    """The friendly names of Zigbee2MQTT groups (`<base>/bridge/groups`): their state topics
    are not devices."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return set()
    if not isinstance(data, list):
        return set()
    return {g["friendly_name"] for g in data if isinstance(g, dict) and "friendly_name" in g}
