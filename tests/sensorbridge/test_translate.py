"""The bridge's core on real Zigbee2MQTT and Home Assistant payloads: the readings it publishes,
what it dead-letters and why, and what it leaves alone."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from records.device_registry import DeviceMapping
from sensorbridge.directory import DeviceIndex
from sensorbridge.translate import Incoming, Translation, Translator
from shouwang.contracts import MessageKind, SensorReading, build_topic, decode
from tests.sensorbridge import payloads as p

SITE = "tongren-bijiang-01"
NOW = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def mapping(address: str, device: str, *kinds: str, protocol: str = "zigbee2mqtt") -> DeviceMapping:
    return DeviceMapping(protocol, address, SITE, device, kinds, True)


TABLE = [
    DeviceMapping(
        "zigbee2mqtt", "0x00158d0001a2b3c4", SITE, "door-wang", ("door_contact",), True, "堂屋大门"
    ),
    mapping("aqara-motion", "motion-1", "motion"),
    mapping("aqara-leak", "leak-1", "water_leak"),
    mapping("aqara-button", "sos-1", "sos_button"),
    mapping("aqara-climate", "temp-1", "temperature"),
    mapping("tuya-door", "door-2", "door_contact"),
    mapping("tuya-motion", "motion-2", "motion"),
    mapping("tuya-presence", "motion-3", "motion"),
    mapping("tuya-leak", "leak-2", "water_leak"),
    mapping("tuya-smoke", "smoke-1", "smoke"),
    mapping("tuya-sos", "sos-2", "sos_button"),
    mapping("tuya-level", "level-1", "water_level"),
    mapping("sonoff-button", "sos-3", "sos_button"),
    mapping("sonoff-climate", "temp-2", "temperature"),
    mapping("sonoff-motion", "motion-4", "motion"),
    mapping("sonoff-door", "door-3", "door_contact"),
    mapping("kitchen/multi", "multi-1", "motion", "temperature"),
    DeviceMapping("zigbee2mqtt", "retired-door", SITE, "door-9", ("door_contact",), False),
    mapping("binary_sensor.li_gate_door", "door-li", "door_contact", protocol="homeassistant"),
    mapping("binary_sensor.li_kitchen_smoke", "smoke-li", "smoke", protocol="homeassistant"),
    mapping("sensor.li_bedroom_temperature", "temp-li", "temperature", protocol="homeassistant"),
    mapping("event.li_sos_button", "sos-li", "sos_button", protocol="homeassistant"),
]


@pytest.fixture
def translator() -> Translator:
    translator = Translator(["zigbee2mqtt"], "homeassistant")
    translator.index = DeviceIndex(TABLE)
    return translator


def z2m(
    translator: Translator,
    name: str,
    state: dict[str, Any] | bytes,
    *,
    at: datetime = NOW,
    retain: bool = False,
) -> Translation:
    payload = state if isinstance(state, bytes) else p.encode(state)
    return translator.translate(Incoming(f"zigbee2mqtt/{name}", payload, at, retain))


def only(translation: Translation) -> SensorReading:
    assert translation.dead_letter is None, translation.dead_letter
    (reading,) = translation.readings
    # What the bridge publishes passes ingest's contract check on its topic.
    topic = build_topic(reading.site, reading.device, MessageKind.SENSOR)
    _, decoded = decode(topic, reading.model_dump_json().encode())
    assert decoded == reading
    return reading


def test_readings_carry_where_the_device_table_says_the_sensor_is_fitted(
    translator: Translator,
) -> None:
    named = only(z2m(translator, "0x00158d0001a2b3c4", p.AQARA_DOOR_MCCGQ11LM))
    assert (named.device, named.device_name) == ("door-wang", "堂屋大门")
    unnamed = only(z2m(translator, "tuya-door", p.TUYA_DOOR_TS0203))
    assert (unnamed.device, unnamed.device_name) == ("door-2", None)


CASES = [
    ("tuya-door", p.TUYA_DOOR_TS0203, "door_contact", False, 100.0),
    ("sonoff-door", p.SONOFF_DOOR_SNZB04, "door_contact", True, 100.0),
    ("aqara-motion", p.AQARA_MOTION_RTCGQ11LM, "motion", True, 100.0),
    ("tuya-motion", p.TUYA_MOTION_TS0202, "motion", True, 100.0),
    ("tuya-presence", p.TUYA_PRESENCE_TS0601, "motion", True, None),
    ("sonoff-motion", p.SONOFF_MOTION_SNZB03, "motion", False, 74.0),
    ("aqara-leak", p.AQARA_LEAK_SJCGQ11LM, "water_leak", True, 86.0),
    ("tuya-leak", p.TUYA_LEAK_TS0207, "water_leak", False, 15.0),
    ("tuya-smoke", p.TUYA_SMOKE_TS0601, "smoke", True, None),
    ("aqara-button", p.AQARA_BUTTON_WXKG11LM, "sos_button", True, 100.0),
    ("tuya-sos", p.TUYA_SOS_TS0215A, "sos_button", True, 90.0),
    ("sonoff-button", p.SONOFF_BUTTON_SNZB01, "sos_button", True, 100.0),
    ("aqara-climate", p.AQARA_CLIMATE_WSDCGQ11LM, "temperature", 21.53, 91.0),
    ("sonoff-climate", p.SONOFF_CLIMATE_SNZB02, "temperature", 22.4, 100.0),
    ("tuya-level", p.TUYA_LEVEL_ME201WZ, "water_level", 1.62, None),
]


@pytest.mark.parametrize(("name", "state", "kind", "value", "battery"), CASES)
def test_each_device_type_gives_its_reading(
    translator: Translator,
    name: str,
    state: dict[str, Any],
    kind: str,
    value: bool | float,
    battery: float | None,
) -> None:
    reading = only(z2m(translator, name, state))
    assert (reading.sensor_type.value, reading.value, reading.battery_pct) == (kind, value, battery)
    assert reading.observed_at == NOW and reading.site == SITE
    assert "repeated" not in reading.attributes
    if "linkquality" in state:
        assert reading.attributes["linkquality"] == state["linkquality"]


def test_health_and_context_values_become_attributes(translator: Translator) -> None:
    leak = only(z2m(translator, "tuya-leak", p.TUYA_LEAK_TS0207))
    assert leak.attributes == {"linkquality": 90, "battery_low": True}
    smoke = only(z2m(translator, "tuya-smoke", p.TUYA_SMOKE_TS0601))
    assert smoke.attributes["battery_low"] is True  # from battery_state "low"
    climate = only(z2m(translator, "aqara-climate", p.AQARA_CLIMATE_WSDCGQ11LM))
    assert (climate.unit, climate.attributes["humidity_pct"]) == ("°C", 45.8)
    assert climate.attributes["voltage_mv"] == 2985
    button = only(z2m(translator, "tuya-sos", p.TUYA_SOS_TS0215A))
    assert button.attributes["action"] == "emergency"


def test_door_sensor_found_by_friendly_name_through_the_device_list(
    translator: Translator,
) -> None:
    listed = translator.translate(
        Incoming("zigbee2mqtt/bridge/devices", json.dumps(p.DEVICE_LIST).encode(), NOW, True)
    )
    assert listed.outcome == "device_list"
    reading = only(z2m(translator, "wang/front-door", p.AQARA_DOOR_MCCGQ11LM))
    assert (reading.device, reading.value) == ("door-wang", True)  # contact false: door open
    # Its IEEE address as the topic (the default friendly name) works too, in any case.
    closed = only(
        z2m(translator, "0x00158D0001A2B3C4", {**p.AQARA_DOOR_MCCGQ11LM, "contact": True})
    )
    assert (closed.device, closed.value) == ("door-wang", False)


def test_a_deleted_retained_message_is_no_dead_letter(translator: Translator) -> None:
    """An empty payload deletes a retained message (Zigbee2MQTT does so for a removed device):
    it is neither read nor dead-lettered; a deleted device list is forgotten."""
    translator.translate(
        Incoming("zigbee2mqtt/bridge/devices", json.dumps(p.DEVICE_LIST).encode(), NOW, True)
    )
    for topic in ("zigbee2mqtt/bridge/devices", "zigbee2mqtt/tuya-door"):
        cleared = translator.translate(Incoming(topic, b"", NOW))
        assert (cleared.outcome, cleared.readings, cleared.dead_letter) == ("cleared", [], None)
    assert "zigbee2mqtt" not in translator.z2m_devices
    unknown = z2m(translator, "wang/front-door", p.AQARA_DOOR_MCCGQ11LM)
    assert unknown.dead_letter is not None and unknown.dead_letter.reason == "unknown_device"


def test_a_multi_sensor_gives_one_reading_per_kind(translator: Translator) -> None:
    state = {"occupancy": True, "temperature": 19.5, "battery": 55}
    readings = z2m(translator, "kitchen/multi", state).readings
    assert [(r.sensor_type.value, r.value, r.battery_pct) for r in readings] == [
        ("motion", True, 55.0),
        ("temperature", 19.5, 55.0),
    ]
    assert len({r.reading_id for r in readings}) == 2


def test_repeats_are_marked_and_check_ins_repeat_the_last_value(translator: Translator) -> None:
    first = only(z2m(translator, "tuya-door", p.TUYA_DOOR_TS0203))
    again = only(z2m(translator, "tuya-door", p.TUYA_DOOR_TS0203, at=NOW + timedelta(hours=1)))
    opened = only(z2m(translator, "tuya-door", {**p.TUYA_DOOR_TS0203, "contact": False}))
    check_in = only(z2m(translator, "tuya-door", {"battery": 97, "linkquality": 80}))
    assert "repeated" not in first.attributes and again.attributes["repeated"] is True
    assert (opened.value, "repeated" in opened.attributes) == (True, False)
    assert (check_in.value, check_in.attributes["repeated"], check_in.battery_pct) == (
        True,
        True,
        97.0,
    )
    # A check-in before any value is known publishes nothing and is no error.
    quiet = z2m(translator, "sonoff-door", {"battery": 100, "voltage": 3100})
    assert (quiet.outcome, quiet.readings, quiet.dead_letter) == ("no_value_yet", [], None)


def test_every_press_counts_and_a_release_or_empty_action_is_a_check_in(
    translator: Translator,
) -> None:
    presses = [
        z2m(translator, "aqara-button", {"action": a, "battery": 100}) for a in ("hold",) * 2
    ]
    assert [only(t).value for t in presses] == [True, True]
    assert all("repeated" not in only(t).attributes for t in presses)
    for action in ("release", ""):
        check_in = only(z2m(translator, "aqara-button", {"action": action, "battery": 99}))
        assert (check_in.value, check_in.attributes["repeated"]) == (False, True)
    heartbeat = only(z2m(translator, "tuya-sos", {"battery": 80, "linkquality": 100}))
    assert (heartbeat.value, heartbeat.attributes["repeated"]) == (False, True)


def test_last_seen_is_the_observation_time_when_believable(translator: Translator) -> None:
    earlier = NOW - timedelta(hours=3)
    iso = z2m(translator, "tuya-door", p.TUYA_DOOR_TS0203 | {"last_seen": "2026-11-26T22:30:00Z"})
    local = z2m(
        translator, "tuya-door", p.TUYA_DOOR_TS0203 | {"last_seen": "2026-11-27T06:30:00+08:00"}
    )
    epoch = z2m(
        translator, "tuya-door", p.TUYA_DOOR_TS0203 | {"last_seen": earlier.timestamp() * 1000}
    )
    assert {only(t).observed_at for t in (iso, local, epoch)} == {earlier}
    for wrong in ("2026-11-27T09:30:00", NOW + timedelta(hours=1), "yesterday", True):
        value = wrong.isoformat() if isinstance(wrong, datetime) else wrong
        translation = z2m(translator, "tuya-door", p.TUYA_DOOR_TS0203 | {"last_seen": value})
        assert only(translation).observed_at == NOW


def test_same_message_twice_gives_the_same_reading_id(translator: Translator) -> None:
    state = p.TUYA_SOS_TS0215A | {"last_seen": "2026-11-27T01:29:58Z"}
    first = only(z2m(translator, "tuya-sos", state))
    second = only(z2m(translator, "tuya-sos", state, at=NOW + timedelta(seconds=5)))
    other = only(z2m(translator, "tuya-sos", state | {"last_seen": "2026-11-27T01:29:59Z"}))
    assert first.reading_id == second.reading_id != other.reading_id


def test_unknown_device_is_dead_lettered_with_what_the_grid_worker_needs(
    translator: Translator,
) -> None:
    translator.translate(
        Incoming("zigbee2mqtt/bridge/devices", json.dumps(p.DEVICE_LIST).encode(), NOW, True)
    )
    listed = z2m(translator, "new-sensor", p.AQARA_MOTION_RTCGQ11LM)
    assert listed.readings == [] and listed.dead_letter is not None
    assert listed.dead_letter.reason == "unknown_device"
    assert listed.sighting is not None
    assert (listed.sighting.address, listed.sighting.friendly_name) == (
        "0x00158d000aaaaaa1",
        "new-sensor",
    )
    assert (listed.sighting.model, listed.sighting.suggested_kinds) == (
        "Xiaomi RTCGQ11LM",
        ("motion",),
    )
    unlisted = z2m(translator, "0xA4C1380000000099", p.TUYA_LEAK_TS0207)
    assert unlisted.sighting is not None
    assert (unlisted.sighting.address, unlisted.sighting.suggested_kinds) == (
        "0xa4c1380000000099",
        ("water_leak",),
    )


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (p.encode({"contact": "open"}), "contact is 'open', not true/false"),
        (p.encode({"contact": True, "battery": "full"}), "battery is 'full', not a number"),
        (p.encode({"colour": "red", "brightness": 3}), "none of contact in the payload"),
    ],
)
def test_unreadable_payloads_are_dead_lettered_with_the_reason(
    translator: Translator, payload: bytes, detail: str
) -> None:
    translation = z2m(translator, "tuya-door", payload)
    assert translation.readings == [] and translation.dead_letter is not None
    assert translation.dead_letter.reason == "unreadable"
    assert detail in translation.dead_letter.detail
    assert "door-2" in translation.dead_letter.detail
    assert translation.sighting is not None  # listed for the grid worker to look at
    assert (translation.sighting.reason, translation.sighting.detail) == (
        "unreadable",
        translation.dead_letter.detail,
    )


def test_topics_and_messages_that_are_not_readings_are_left_alone(translator: Translator) -> None:
    state = p.encode(p.TUYA_DOOR_TS0203)
    translator.translate(
        Incoming("zigbee2mqtt/bridge/groups", b'[{"id": 1, "friendly_name": "all-lights"}]', NOW)
    )
    outcomes = {
        "zigbee2mqtt/tuya-door/set": "command",
        "zigbee2mqtt/tuya-door/set/state": "command",
        "zigbee2mqtt/tuya-door/get": "command",
        "zigbee2mqtt/tuya-door/availability": "availability",
        "zigbee2mqtt/bridge/state": "bridge",
        "zigbee2mqtt/bridge/logging": "bridge",
        "zigbee2mqtt/all-lights": "group",
        "zigbee2mqtt/retired-door": "inactive",
        "shouwang/v1/site/dev/sensor": "not_a_device_topic",
        "homeassistant/binary_sensor/li_gate_door/device_class": "not_a_device_topic",
    }
    for topic, outcome in outcomes.items():
        translation = translator.translate(Incoming(topic, state, NOW))
        assert (translation.outcome, translation.readings, translation.dead_letter) == (
            outcome,
            [],
            None,
        ), topic
    retained = z2m(translator, "tuya-door", p.TUYA_DOOR_TS0203, retain=True)
    assert (retained.outcome, retained.readings) == ("retained", [])


def test_last_values_survive_through_what_the_shell_stores(translator: Translator) -> None:
    opened = z2m(translator, "tuya-door", {**p.TUYA_DOOR_TS0203, "contact": False})
    assert opened.remember == {f"{SITE}/door-2/door_contact": "true"}
    restarted = Translator(["zigbee2mqtt"], "homeassistant")
    restarted.index = DeviceIndex(TABLE)
    restarted.load_last(opened.remember)
    check_in = only(z2m(restarted, "tuya-door", {"battery": 90}))
    assert (check_in.value, check_in.attributes["repeated"]) == (True, True)


def ha(translator: Translator, entity: str, payload: bytes, *, retain: bool = False) -> Translation:
    domain, object_id = entity.split(".")
    topic = f"homeassistant/{domain}/{object_id}/state"
    return translator.translate(Incoming(topic, payload, NOW, retain))


def test_home_assistant_statestream_states(translator: Translator) -> None:
    opened = only(ha(translator, "binary_sensor.li_gate_door", b"on"))
    closed = only(ha(translator, "binary_sensor.li_gate_door", b'"off"'))
    assert (opened.device, opened.value, closed.value) == ("door-li", True, False)
    assert only(ha(translator, "binary_sensor.li_kitchen_smoke", b"on")).value is True
    temperature = only(ha(translator, "sensor.li_bedroom_temperature", b"18.5"))
    assert (temperature.sensor_type.value, temperature.value) == ("temperature", 18.5)
    press = only(ha(translator, "event.li_sos_button", b"2026-11-27T01:29:59.123+00:00"))
    assert (press.sensor_type.value, press.value) == ("sos_button", True)
    assert ha(translator, "binary_sensor.li_gate_door", b"unavailable").outcome == "no_state"
    assert ha(translator, "binary_sensor.li_gate_door", b"on", retain=True).outcome == "retained"
    bad = ha(translator, "binary_sensor.li_gate_door", b"open")
    assert bad.dead_letter is not None and "not on/off" in bad.dead_letter.detail
    unknown = ha(translator, "binary_sensor.somewhere_else", b"on")
    assert unknown.dead_letter is not None and unknown.dead_letter.reason == "unknown_device"
    assert unknown.sighting is not None and unknown.sighting.protocol == "homeassistant"
