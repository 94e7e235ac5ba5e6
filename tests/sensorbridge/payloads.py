"""State payloads as Zigbee2MQTT publishes them for common Aqara, Tuya and Sonoff sensors
(the properties each device's page lists under "Exposes"), and its retained device list."""

import json

AQARA_DOOR_MCCGQ11LM = {
    "battery": 100,
    "contact": False,
    "linkquality": 120,
    "power_outage_count": 12,
    "temperature": 25,
    "voltage": 3025,
}
AQARA_MOTION_RTCGQ11LM = {
    "battery": 100,
    "device_temperature": 28,
    "illuminance": 21,
    "illuminance_lux": 21,
    "linkquality": 94,
    "occupancy": True,
    "power_outage_count": 3,
    "voltage": 3055,
}
AQARA_LEAK_SJCGQ11LM = {
    "battery": 86,
    "battery_low": False,
    "linkquality": 78,
    "temperature": 24,
    "voltage": 2975,
    "water_leak": True,
}
AQARA_BUTTON_WXKG11LM = {"action": "single", "battery": 100, "linkquality": 102, "voltage": 3042}
AQARA_CLIMATE_WSDCGQ11LM = {
    "battery": 91,
    "humidity": 45.8,
    "linkquality": 84,
    "pressure": 1012.3,
    "temperature": 21.53,
    "voltage": 2985,
}
TUYA_DOOR_TS0203 = {
    "battery": 100,
    "battery_low": False,
    "contact": True,
    "linkquality": 156,
    "tamper": False,
    "voltage": 3000,
}
TUYA_MOTION_TS0202 = {
    "battery": 100,
    "battery_low": False,
    "linkquality": 128,
    "occupancy": True,
    "tamper": False,
}
TUYA_PRESENCE_TS0601 = {"illuminance_lux": 120, "linkquality": 150, "presence": True}
TUYA_LEAK_TS0207 = {"battery": 15, "battery_low": True, "linkquality": 90, "water_leak": False}
TUYA_SMOKE_TS0601 = {"battery_state": "low", "linkquality": 60, "smoke": True}
TUYA_SOS_TS0215A = {"action": "emergency", "battery": 90, "linkquality": 140}
TUYA_LEVEL_ME201WZ = {"liquid_depth": 1.62, "liquid_level_percent": 81, "liquid_state": "normal"}
SONOFF_BUTTON_SNZB01 = {"action": "long", "battery": 100, "linkquality": 110, "voltage": 3100}
SONOFF_CLIMATE_SNZB02 = {
    "battery": 100,
    "humidity": 51.2,
    "linkquality": 92,
    "temperature": 22.4,
    "voltage": 3100,
}
SONOFF_MOTION_SNZB03 = {
    "battery": 74,
    "battery_low": False,
    "linkquality": 82,
    "occupancy": False,
    "voltage": 2900,
}
SONOFF_DOOR_SNZB04 = {
    "battery": 100,
    "battery_low": False,
    "contact": False,
    "linkquality": 114,
    "voltage": 3100,
}


def encode(state: dict[str, object], **extra: object) -> bytes:
    """The payload bytes, with extra properties (`last_seen`, a changed value)."""
    return json.dumps({**state, **extra}).encode()


def _expose(prop: str, kind: str = "numeric") -> dict[str, object]:
    return {"type": kind, "name": prop, "property": prop, "access": 1}


DEVICE_LIST = [
    {
        "ieee_address": "0x00124b00120144ae",
        "type": "Coordinator",
        "network_address": 0,
        "supported": False,
        "friendly_name": "Coordinator",
        "definition": None,
        "power_source": None,
        "interview_completed": True,
    },
    {
        "ieee_address": "0x00158D0001A2B3C4",
        "type": "EndDevice",
        "network_address": 29159,
        "supported": True,
        "friendly_name": "wang/front-door",
        "definition": {
            "model": "MCCGQ11LM",
            "vendor": "Xiaomi",
            "description": "Aqara door & window contact sensor",
            "exposes": [
                _expose("battery"),
                _expose("contact", "binary"),
                _expose("temperature"),
                _expose("voltage"),
                _expose("linkquality"),
            ],
            "options": [],
        },
        "power_source": "Battery",
        "interview_completed": True,
    },
    {
        "ieee_address": "0x00158d000aaaaaa1",
        "type": "EndDevice",
        "network_address": 4242,
        "supported": True,
        "friendly_name": "new-sensor",
        "definition": {
            "model": "RTCGQ11LM",
            "vendor": "Xiaomi",
            "description": "Aqara human body movement and illuminance sensor",
            "exposes": [_expose("battery"), _expose("occupancy", "binary"), _expose("illuminance")],
            "options": [],
        },
        "power_source": "Battery",
        "interview_completed": True,
    },
    {
        "ieee_address": "0x90fd9ffffe6494fc",
        "type": "Router",
        "supported": True,
        "friendly_name": "hall-light",
        "definition": {
            "model": "LED1624G9",
            "vendor": "IKEA",
            "exposes": [{"type": "light", "features": [_expose("state", "binary")]}],
        },
    },
]
