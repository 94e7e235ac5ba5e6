"""The sensor bridge: Zigbee2MQTT messages per second turned into wire readings, end to end
through a private Mosquitto (published as a burst, the readings received by a subscriber on the
sensor topics), next to a raw subscriber receiving the same burst in the same run; and the
bridge's core alone (translate) next to `json.loads` of the same payloads.

    python -m benchmarks.bridge_throughput [--messages 10000] [--devices 1000]
"""

import argparse
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import redis
from paho.mqtt.enums import CallbackAPIVersion

from records.device_registry import DeviceMapping
from sensorbridge.config import BridgeSettings
from sensorbridge.directory import DeviceIndex
from sensorbridge.translate import Incoming, Translator
from sensorbridge.worker import BridgeWorker
from tests.helpers.mosquitto import running_mosquitto
from tests.sensorbridge import payloads as p

REDIS_URL = "redis://127.0.0.1:6379/0"
SITE = "bench-bridge"
KINDS = (
    ("door_contact", p.AQARA_DOOR_MCCGQ11LM, "contact"),
    ("motion", p.AQARA_MOTION_RTCGQ11LM, "occupancy"),
    ("water_leak", p.TUYA_LEAK_TS0207, "water_leak"),
    ("sos_button", p.TUYA_SOS_TS0215A, None),
    ("temperature", p.SONOFF_CLIMATE_SNZB02, None),
)


@dataclass(frozen=True)
class Result:
    messages: int
    bridge_rate: float
    """Readings/s received on the sensor topics, from the first message published."""
    raw_rate: float
    """Messages/s a plain subscriber received of the same burst."""
    core_rate: float
    """Messages/s `Translator.translate` handles, in-process."""
    parse_rate: float
    """`json.loads` of the same payloads per second."""
    received: int


class Table:
    """An in-memory device table (the benchmark needs no database)."""

    def __init__(self, rows: Sequence[DeviceMapping]) -> None:
        self.rows = list(rows)

    def version(self) -> int:
        return len(self.rows)

    def mappings(self) -> list[DeviceMapping]:
        return self.rows

    def report_unassigned(self, **_sighting: Any) -> None:
        return None


def devices(count: int) -> list[DeviceMapping]:
    """`count` devices of the five kinds, named `dev-<n>`."""
    return [
        DeviceMapping("zigbee2mqtt", f"dev-{n}", SITE, f"sensor-{n}", (KINDS[n % 5][0],), True)
        for n in range(count)
    ]


def burst(base: str, messages: int, count: int) -> list[tuple[str, bytes]]:
    """Messages round-robin over the devices; flags alternate, so half are changes."""
    found = []
    for index in range(messages):
        device = index % count
        _, state, flag = KINDS[device % 5]
        changed = dict(state)
        if flag:
            changed[flag] = bool((index // count) % 2)
        found.append((f"{base}/dev-{device}", json.dumps(changed).encode()))
    return found


class Counter:
    """A subscriber counting messages on a filter until `expected` arrived."""

    def __init__(self, port: int, topic: str, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.done = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"count-{uuid.uuid4().hex}"
        )
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        subscribed.wait(10)

    def _on_message(self, *_args: Any) -> None:
        self.count += 1
        if self.count >= self.expected:
            self.done.set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_all(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex}")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def received(port: int, topic: str, traffic: list[tuple[str, bytes]]) -> tuple[int, float]:
    """Publish `traffic`; how many messages arrived on `topic` (up to as many) and in what time
    from the first publish."""
    counter = Counter(port, topic, len(traffic))
    started = time.perf_counter()
    publish_all(port, traffic)
    counter.done.wait(300)
    elapsed = time.perf_counter() - started
    counter.close()
    return counter.count, elapsed


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def core_rates(messages: list[tuple[str, bytes]], rows: list[DeviceMapping]) -> tuple[float, float]:
    translator = Translator(["bench"])
    translator.index = DeviceIndex(rows)
    now = datetime.now(UTC)
    incoming = [Incoming(topic, payload, now) for topic, payload in messages]
    core = _timed(lambda: [translator.translate(m) for m in incoming])
    parse = _timed(lambda: [json.loads(m.payload) for m in incoming])
    return len(messages) / core, len(messages) / parse


def run(messages: int, count: int, say: Callable[[str], None] = print) -> Result:
    """Run both sides on one private broker."""
    rows = devices(count)
    base = f"bench-{uuid.uuid4().hex[:8]}"
    traffic = burst(base, messages, count)
    core, parse = core_rates([(t.replace(base, "bench", 1), b) for t, b in traffic], rows)
    with (
        tempfile.TemporaryDirectory() as folder,
        running_mosquitto(Path(folder), tuned=True) as broker,
    ):
        say(f"bridge: {messages:,} Zigbee2MQTT messages to a raw subscriber …")
        _, raw_s = received(broker.port, f"{base}/#", traffic)
        say(f"bridge: the same through the bridge ({count:,} devices) …")
        state_key = f"bench:{uuid.uuid4().hex[:8]}:bridge:last"
        settings = BridgeSettings.load(
            None,
            mqtt={"host": "127.0.0.1", "port": broker.port},
            redis={"url": REDIS_URL},
            bridge={
                "client_id": f"bench-bridge-{uuid.uuid4().hex[:6]}",
                "zigbee2mqtt_topics": [base],
                "state_key": state_key,
                "deadletter_stream": f"{state_key}:deadletter",
                "metrics_port": 0,
                "session_expiry_s": 60,
            },
        )
        worker = BridgeWorker(settings, Table(rows))
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        worker.wait_subscribed(15)
        got, bridge_s = received(broker.port, f"shouwang/v1/{SITE}/+/sensor", traffic)
        worker.stop()
        thread.join(15)
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(state_key, f"{state_key}:deadletter")
        client.close()
    return Result(messages, got / bridge_s, messages / raw_s, core, parse, got)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--devices", type=int, default=1_000)
    args = parser.parse_args()
    result = run(args.messages, args.devices)
    print(
        f"through the broker: {result.bridge_rate:,.0f} readings/s "
        f"({result.received:,}/{result.messages:,}), raw subscriber {result.raw_rate:,.0f} msg/s "
        f"({result.bridge_rate / result.raw_rate:.2f}×)"
    )
    print(
        f"core alone: translate {result.core_rate:,.0f} msg/s, json.loads "
        f"{result.parse_rate:,.0f} msg/s ({result.core_rate / result.parse_rate:.2f}×)"
    )


if __name__ == "__main__":
    main()
