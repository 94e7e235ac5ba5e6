"""The bridge's core: one MQTT message from Zigbee2MQTT or Home Assistant in, wire-contract
sensor readings (or a dead letter, and a sighting for the unassigned list) out. No I/O: the
shell (`sensorbridge.worker`) receives, publishes, stores and acknowledges.

Each message of a mapped device gives one reading per sensor kind of the device. A periodic
report that repeats the value last published for that kind (or a button's check-in) is still
published, marked `attributes.repeated: true`: it shows the sensor is alive and carries its
battery, but it is no activity. The last values live here in memory; the shell stores what
`Translation.remember` says with the batch and loads the stored ones at start (`load_last`).
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from sensorbridge import homeassistant, zigbee2mqtt
from sensorbridge.directory import HOMEASSISTANT, ZIGBEE2MQTT, Device, DeviceIndex
from sensorbridge.readings import Attributes, Unreadable, build_reading, reading_id
from sensorbridge.zigbee2mqtt import TopicKind, Z2mDevice
from shouwang.contracts import SensorReading, SensorType

UNKNOWN_DEVICE = "unknown_device"
UNREADABLE = "unreadable"
"""Dead-letter reasons: a device no row maps; a payload (or value) the bridge cannot read."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message as it came off the broker."""

    topic: str
    payload: bytes
    received_at: datetime
    retain: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why a message was not turned into readings."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Sighting:
    """A device for the unassigned list: heard but mapped by no row of the device table
    (`unknown_device`), or mapped but its message could not be read (`unreadable`)."""

    protocol: str
    address: str
    friendly_name: str
    model: str
    suggested_kinds: tuple[str, ...]
    reason: str
    detail: str


@dataclass(slots=True)
class Translation:
    """What one message became. `outcome` names it for the metrics (`published`, `retained`,
    `device_list`, `unknown_device`, …)."""

    outcome: str
    readings: list[SensorReading] = field(default_factory=list)
    dead_letter: DeadLetter | None = None
    sighting: Sighting | None = None
    remember: dict[str, str] = field(default_factory=dict)
    """Last values to keep (key → JSON value), so a restart still tells repeats from changes."""


def last_value_key(device: Device, kind: SensorType) -> str:
    """Key of a device's last published value of `kind`."""
    return f"{device.site}/{device.device}/{kind.value}"


class Translator:
    """Turns messages under the configured base topics into readings."""

    def __init__(
        self,
        zigbee2mqtt_bases: Sequence[str],
        homeassistant_base: str | None = None,
    ) -> None:
        self.zigbee2mqtt_bases = tuple(zigbee2mqtt_bases)
        self.homeassistant_base = homeassistant_base
        self.index = DeviceIndex()
        self.z2m_devices: dict[str, dict[str, Z2mDevice]] = {}
        self.z2m_groups: dict[str, set[str]] = {}
        self.last: dict[str, bool | float] = {}

    def load_last(self, values: Mapping[str, str]) -> None:
        """Replace the last values with stored ones (key → JSON value)."""
        self.last = {}
        for key, raw in values.items():
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(value, bool | int | float):
                self.last[key] = value

    def translate(self, message: Incoming) -> Translation:
        """What `message` becomes."""
        for base in self.zigbee2mqtt_bases:
            topic = zigbee2mqtt.parse_topic(base, message.topic)
            if topic is not None:
                return self._zigbee2mqtt(topic, message)
        if self.homeassistant_base:
            state = homeassistant.parse_topic(self.homeassistant_base, message.topic)
            if state is not None:
                return self._homeassistant(state, message)
        return Translation("not_a_device_topic")

    # Zigbee2MQTT.

    def _zigbee2mqtt(self, topic: zigbee2mqtt.Z2mTopic, message: Incoming) -> Translation:
        if not message.payload:  # a retained message deleted, e.g. a removed device's state
            if topic.kind is TopicKind.DEVICE_LIST:
                self.z2m_devices.pop(topic.base, None)
            return Translation("cleared")
        if topic.kind is TopicKind.DEVICE_LIST:
            try:
                self.z2m_devices[topic.base] = zigbee2mqtt.parse_device_list(message.payload)
            except Unreadable as exc:
                return Translation(UNREADABLE, dead_letter=DeadLetter(UNREADABLE, str(exc)))
            return Translation("device_list")
        if topic.kind is TopicKind.GROUP_LIST:
            self.z2m_groups[topic.base] = zigbee2mqtt.parse_group_names(message.payload)
            return Translation("group_list")
        if topic.kind is not TopicKind.STATE:
            return Translation(topic.kind.value)
        if message.retain:
            return Translation("retained")  # a state replayed on connect: nothing new
        if topic.name in self.z2m_groups.get(topic.base, ()):
            return Translation("group")
        name = topic.name
        known = self.z2m_devices.get(topic.base, {}).get(name)
        ieee = zigbee2mqtt.normalise_address(name) if zigbee2mqtt.IEEE.fullmatch(name) else None
        ieee = ieee or (known.ieee_address if known else None)
        device = self.index.find(ZIGBEE2MQTT, ieee, name)
        if device is None:
            return self._unknown(message, ieee or name, name, known)
        if not device.active:
            return Translation("inactive")
        try:
            state = zigbee2mqtt.parse_state(message.payload)
            return self._z2m_readings(device, state, message)
        except Unreadable as exc:
            detail = f"{device.site}/{device.device} ({name}): {exc}"
            return self._unreadable(device, name, known, message, detail)

    def _unknown(
        self, message: Incoming, address: str, name: str, known: Z2mDevice | None
    ) -> Translation:
        detail = f"no device-table row for {address!r} (friendly name {name!r})"
        sighting = _z2m_sighting(address, name, known, message, UNKNOWN_DEVICE, detail)
        return Translation(
            UNKNOWN_DEVICE, dead_letter=DeadLetter(UNKNOWN_DEVICE, detail), sighting=sighting
        )

    def _unreadable(
        self, device: Device, name: str, known: Z2mDevice | None, message: Incoming, detail: str
    ) -> Translation:
        sighting = _z2m_sighting(device.address, name, known, message, UNREADABLE, detail)
        return Translation(
            UNREADABLE, dead_letter=DeadLetter(UNREADABLE, detail), sighting=sighting
        )

    def _z2m_readings(
        self, device: Device, state: dict[str, Any], message: Incoming
    ) -> Translation:
        at = zigbee2mqtt.observed_at(state, message.received_at)
        battery = zigbee2mqtt.battery_pct(state)
        translation = Translation("published")
        for kind in device.kinds:
            value = zigbee2mqtt.read_kind(kind, state)
            attributes = zigbee2mqtt.attributes(kind, state)
            self._add(translation, device, kind, value, at, message.payload, battery, attributes)
        if not translation.readings:
            if not set(state) & zigbee2mqtt.KNOWN:
                wanted = ", ".join(
                    name for kind in device.kinds for name in zigbee2mqtt.KIND_PROPERTIES[kind]
                )
                keys = ", ".join(sorted(state))[:300] or "none"
                raise Unreadable(f"none of {wanted} in the payload (keys: {keys})")
            translation.outcome = "no_value_yet"  # a check-in before any value was heard
        return translation

    # Home Assistant.

    def _homeassistant(self, topic: homeassistant.StateTopic, message: Incoming) -> Translation:
        if message.retain:
            return Translation("retained")
        device = self.index.find(HOMEASSISTANT, topic.entity_id)
        if device is None:
            return _ha_dead_letter(
                topic, UNKNOWN_DEVICE, f"no device-table row for entity {topic.entity_id!r}"
            )
        if not device.active:
            return Translation("inactive")
        kind = device.kinds[0]
        try:
            value = homeassistant.read_state(kind, homeassistant.state_text(message.payload))
            if value is None:
                return Translation("no_state")
            translation = Translation("published")
            self._add(translation, device, kind, value, message.received_at, message.payload)
        except Unreadable as exc:
            detail = f"{device.site}/{device.device} ({topic.entity_id}): {exc}"
            return _ha_dead_letter(topic, UNREADABLE, detail)
        return translation

    # Both.

    def _add(
        self,
        translation: Translation,
        device: Device,
        kind: SensorType,
        value: bool | float | None,
        at: datetime,
        payload: bytes,
        battery: float | None = None,
        attributes: Attributes | None = None,
    ) -> None:
        """Add the reading of one kind: the value heard, else (a check-in) the last one as a
        repeat; a button's check-in is `False`, a repeat."""
        key = last_value_key(device, kind)
        last = self.last.get(key)
        if kind is SensorType.SOS_BUTTON:
            repeated = value is None
            value = bool(value)
        elif value is None:
            if last is None:
                return
            value, repeated = last, True
        else:
            repeated = last == value and isinstance(last, bool) == isinstance(value, bool)
        extra = dict(attributes or {})
        if repeated:
            extra["repeated"] = True
        try:
            reading = build_reading(
                site=device.site,
                device=device.device,
                kind=kind,
                name=device.name,
                value=value,
                at=at,
                reading=reading_id(device.protocol, device.address, kind, at, payload),
                battery_pct=battery,
                unit=zigbee2mqtt.UNITS.get(kind),
                attributes=extra,
            )
        except ValidationError as exc:
            raise Unreadable(f"{kind.value}: {exc.errors()[0]['msg']}") from None
        translation.readings.append(reading)
        if not repeated and kind is not SensorType.SOS_BUTTON:
            self.last[key] = value
            translation.remember[key] = json.dumps(value)


def _z2m_sighting(
    address: str,
    name: str,
    known: Z2mDevice | None,
    message: Incoming,
    reason: str,
    detail: str,
) -> Sighting:
    """A Zigbee2MQTT device for the unassigned list, with the kinds its exposes (from the
    device list) or its payload's properties suggest."""
    try:
        properties = set(zigbee2mqtt.parse_state(message.payload))
    except Unreadable:
        properties = set()
    kinds = known.kinds if known and known.kinds else zigbee2mqtt.suggest_kinds(properties)
    model = known.model if known else ""
    return Sighting(ZIGBEE2MQTT, address, name, model, tuple(kinds), reason, detail)


def _ha_dead_letter(topic: homeassistant.StateTopic, reason: str, detail: str) -> Translation:
    sighting = Sighting(HOMEASSISTANT, topic.entity_id, topic.entity_id, "", (), reason, detail)
    return Translation(reason, dead_letter=DeadLetter(reason, detail), sighting=sighting)
