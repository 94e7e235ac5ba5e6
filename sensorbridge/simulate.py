"""Zigbee sensors for the demo: what Zigbee2MQTT would publish for an elder's door, bedroom
motion sensor and SOS button (Aqara and Tuya devices, their real payload formats), on a
Zigbee2MQTT base topic the bridge reads.

The story: the last morning that has passed (07:00–11:00, today or yesterday) went by with
only the sensors' periodic check-ins — no door opened, no motion — replayed now with their
`last_seen` times, so the rules raise "no activity this morning" at once; then, live, the SOS
button is pressed, a new sensor nobody has assigned joins the network, and the sensors keep
checking in (the motion sensor's battery is low).
"""

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from sensorbridge.config import BridgeSettings
from shouwang.mqtt import mqtt_client

log = structlog.get_logger("shouwang.bridge")


@dataclass(frozen=True, slots=True)
class SimulatedDevice:
    """A Zigbee device as Zigbee2MQTT knows it."""

    ieee: str
    name: str
    vendor: str
    model: str
    exposes: tuple[str, ...]
    check_in: dict[str, Any]
    """Its periodic state report (nothing happening)."""


DOOR = SimulatedDevice(
    "0x00158d0000d0e001",
    "wang/front-door",
    "Xiaomi",
    "MCCGQ11LM",
    ("battery", "contact", "temperature", "voltage", "linkquality"),
    {"battery": 91, "contact": True, "linkquality": 116, "temperature": 14, "voltage": 2995},
)
MOTION = SimulatedDevice(
    "0x00158d0000d0e002",
    "wang/bedroom-motion",
    "Xiaomi",
    "RTCGQ11LM",
    ("battery", "occupancy", "illuminance", "voltage", "linkquality"),
    {"battery": 15, "illuminance": 4, "linkquality": 87, "occupancy": False, "voltage": 2705},
)
SOS = SimulatedDevice(
    "0xa4c1380000d0e003",
    "wang/sos-button",
    "TuYa",
    "TS0215A_sos",
    ("battery", "action", "linkquality"),
    {"battery": 88, "linkquality": 132},
)
NEWCOMER = SimulatedDevice(
    "0x00158d0000d0e0ff",
    "0x00158d0000d0e0ff",
    "Xiaomi",
    "MCCGQ11LM",
    ("battery", "contact", "voltage", "linkquality"),
    {"battery": 100, "contact": True, "linkquality": 140, "voltage": 3045},
)
DEVICES = (DOOR, MOTION, SOS, NEWCOMER)
"""The demo elder's sensors (in configs/demo/devices.csv) and one nobody has assigned yet."""
MORNING = (time(7), time(11))
CHECK_INS = (time(6, 30), time(7, 40), time(8, 50), time(10), time(10, 50))


def device_list() -> list[dict[str, Any]]:
    """Zigbee2MQTT's retained `bridge/devices` for the simulated devices."""
    return [
        {
            "ieee_address": d.ieee,
            "type": "EndDevice",
            "supported": True,
            "friendly_name": d.name,
            "power_source": "Battery",
            "interview_completed": True,
            "definition": {
                "vendor": d.vendor,
                "model": d.model,
                "exposes": [{"name": e, "property": e, "access": 1} for e in d.exposes],
                "options": [],
            },
        }
        for d in DEVICES
    ]


def last_morning(now: datetime, zone: ZoneInfo) -> datetime:
    """The local midnight of the last day whose 07:00–11:00 has passed."""
    local = now.astimezone(zone)
    day = local.date() if local.time() >= MORNING[1] else local.date() - timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=zone)


def quiet_morning(
    now: datetime, zone: ZoneInfo
) -> Iterator[tuple[SimulatedDevice, dict[str, Any]]]:
    """The check-ins of the door and motion sensors through the last morning: no activity."""
    midnight = last_morning(now, zone)
    for moment in CHECK_INS:
        seen = datetime.combine(midnight.date(), moment, tzinfo=zone)
        for device in (DOOR, MOTION):
            yield device, {**device.check_in, "last_seen": seen.isoformat(timespec="seconds")}


def state(device: SimulatedDevice, now: datetime, **changes: Any) -> dict[str, Any]:
    """A live state message of `device`."""
    return {**device.check_in, **changes, "last_seen": now.isoformat(timespec="seconds")}


class Simulator:
    """Publishes the story on `<base>/...` (QoS 1), then check-ins every `check_in_s`."""

    def __init__(
        self,
        settings: BridgeSettings,
        *,
        base: str,
        timezone: str = "Asia/Shanghai",
        sos_after_s: float = 20.0,
        check_in_s: float = 60.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.base = base
        self.zone = ZoneInfo(timezone)
        self.sos_after_s = sos_after_s
        self.check_in_s = check_in_s
        self.clock = clock or (lambda: datetime.now(self.zone))
        self.stopping = threading.Event()
        self.client = mqtt_client(
            settings.mqtt,
            f"{settings.bridge.client_id}-simulator",
            v5=settings.bridge.protocol == "5",
            persistent=False,
        )

    def publish(self, name: str, payload: Any, *, retain: bool = False) -> None:
        """Publish one Zigbee2MQTT message and wait until the broker has it."""
        info = self.client.publish(f"{self.base}/{name}", json.dumps(payload), qos=1, retain=retain)
        info.wait_for_publish(10)

    def run(self) -> None:
        """Tell the story, then keep the sensors checking in until `stop()`."""
        broker = self.settings.mqtt
        self.client.connect(broker.host, broker.port, keepalive=broker.keepalive_s)
        self.client.loop_start()
        try:
            self.publish("bridge/devices", device_list(), retain=True)
            for device, message in quiet_morning(self.clock(), self.zone):
                self.publish(device.name, message)
            log.info("simulated a morning without activity", devices=[DOOR.name, MOTION.name])
            self.publish(NEWCOMER.name, state(NEWCOMER, self.clock()))
            if self.stopping.wait(self.sos_after_s):
                return
            self.publish(SOS.name, state(SOS, self.clock(), action="emergency"))
            log.info("simulated an SOS press", device=SOS.name)
            while not self.stopping.wait(self.check_in_s):
                for device in (DOOR, MOTION, SOS):
                    self.publish(device.name, state(device, self.clock()))
        finally:
            self.client.loop_stop()
            self.client.disconnect()

    def stop(self) -> None:
        """Ask `run()` to return (safe from a signal handler)."""
        self.stopping.set()
