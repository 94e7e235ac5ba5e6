"""The bridge between the real broker, the records database and ingest: Zigbee2MQTT and Home
Assistant messages (every documented Aqara, Tuya and SONOFF device) become sensor readings on
the events stream; unknown devices and unreadable payloads are dead-lettered and listed for
assignment, and an assigned device's next message is a reading."""

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from records.db import make_engine, make_sessionmaker
from records.device_registry import (
    Assignment,
    RecordsDeviceDirectory,
    assign_device,
    unassigned_devices,
)
from records.migrate import upgrade
from records.watchlist_csv import import_csv
from sensorbridge.config import BridgeSettings
from sensorbridge.worker import BridgeWorker
from shouwang.contracts import SensorReading
from tests.ingest.conftest import (
    REDIS_URL,
    Namespace,
    Publisher,
    make_settings,
    ns,
    publisher,
    redis_client,
    running_worker,
    wait_for,
)
from tests.sensorbridge import payloads as p
from tests.sensorbridge.test_translate import CASES, TABLE

pytestmark = pytest.mark.integration
__all__ = ["ns", "publisher", "redis_client"]


@pytest.fixture
def devices(ns: Namespace, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A records database whose device table maps this test's devices at this test's site."""
    engine = make_engine(f"sqlite:///{tmp_path}/records.sqlite3")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    rows = [
        "address,site,device,kinds",
        f"0x00158d0001a2b3c4,{ns.site},door-1,门磁",
        f"aqara-motion,{ns.site},motion-1,motion",
        f"tuya-leak,{ns.site},leak-1,水浸",
        f"tuya-smoke,{ns.site},smoke-1,smoke",
        f"tuya-sos,{ns.site},sos-1,一键求助",
        f"sonoff-climate,{ns.site},temp-1,temperature",
        f"sonoff-door,{ns.site},door-2,door_contact",
    ]
    files = {
        "sites": f"code\n{ns.site}\n",
        "devices": "\n".join(rows) + "\n",
        "devices-ha": "protocol,address,site,device,kinds\n"
        f"ha,binary_sensor.gate,{ns.site},door-3,门磁\n",
    }
    for name, text in files.items():
        with sessions.begin() as session:
            report = import_csv(session, name.split("-")[0], text.encode())
            assert report.ok and report.applied, [str(e) for e in report.errors]
    yield sessions
    engine.dispose()


@contextmanager
def running_bridge(ns: Namespace, sessions: sessionmaker[Session]) -> Iterator[BridgeWorker]:
    settings = BridgeSettings.load(
        None,
        mqtt={"host": "127.0.0.1", "port": 1883},
        redis={"url": REDIS_URL},
        bridge={
            "client_id": f"bridge-{ns.uid}",
            "zigbee2mqtt_topics": [f"z2m-{ns.uid}"],
            "homeassistant_topic": f"ha-{ns.uid}",
            "deadletter_stream": ns.deadletter,
            "state_key": f"test:{ns.uid}:bridge:last",
            "session_expiry_s": 60,
            "metrics_port": 0,
            "devices_refresh_s": 0.2,
        },
    )
    worker = BridgeWorker(settings, RecordsDeviceDirectory(sessions))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.wait_subscribed(15), "the bridge did not subscribe"
        yield worker
    finally:
        worker.stop()
        thread.join(15)
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(settings.bridge.state_key)
        client.close()


def listed(sessions: sessionmaker[Session]) -> bool:
    """Whether the unassigned list holds a device (read in a transaction of its own)."""
    with sessions() as session:
        return bool(unassigned_devices(session))


def stream_readings(client: redis.Redis, stream: str) -> list[SensorReading]:
    entries = client.xrange(stream)
    return [
        SensorReading.model_validate_json(f["payload"]) for _, f in entries if f["kind"] == "sensor"
    ]


def test_zigbee2mqtt_and_home_assistant_messages_become_readings_through_ingest(
    ns: Namespace,
    devices: sessionmaker[Session],
    publisher: Publisher,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    base = f"z2m-{ns.uid}"
    device_list = json.dumps(p.DEVICE_LIST).encode()
    messages: list[tuple[str, Any]] = [
        ("wang/front-door", p.AQARA_DOOR_MCCGQ11LM),
        ("aqara-motion", p.AQARA_MOTION_RTCGQ11LM),
        ("tuya-leak", p.TUYA_LEAK_TS0207),
        ("tuya-smoke", p.TUYA_SMOKE_TS0601),
        ("tuya-sos", p.TUYA_SOS_TS0215A),
        ("sonoff-climate", p.SONOFF_CLIMATE_SNZB02),
        ("sonoff-door", p.SONOFF_DOOR_SNZB04),
        ("sonoff-door", {"battery": 99, "linkquality": 70}),  # a check-in: a repeat
    ]
    with (
        running_worker(make_settings(ns, tmp_path / "snapshots")),
        running_bridge(ns, devices) as bridge,
    ):
        publisher.publish(f"{base}/bridge/devices", device_list, retain=True)
        try:
            assert wait_for(lambda: bool(bridge.translator.z2m_devices.get(base)))
            for name, state in messages:
                publisher.publish(f"{base}/{name}", p.encode(state))
            publisher.publish(f"ha-{ns.uid}/binary_sensor/gate/state", b"on")
            assert wait_for(lambda: redis_client.xlen(ns.stream) >= len(messages) + 1)
        finally:
            publisher.publish(f"{base}/bridge/devices", b"", retain=True)
        # The deletion reaches the bridge too: it forgets the list and dead-letters nothing.
        assert wait_for(lambda: base not in bridge.translator.z2m_devices)
    readings = stream_readings(redis_client, ns.stream)
    got = [
        (r.device, r.sensor_type.value, r.value, r.battery_pct, bool(r.attributes.get("repeated")))
        for r in readings
    ]
    assert got == [
        ("door-1", "door_contact", True, 100.0, False),
        ("motion-1", "motion", True, 100.0, False),
        ("leak-1", "water_leak", False, 15.0, False),
        ("smoke-1", "smoke", True, None, False),
        ("sos-1", "sos_button", True, 90.0, False),
        ("temp-1", "temperature", 22.4, 100.0, False),
        ("door-2", "door_contact", True, 100.0, False),
        ("door-2", "door_contact", True, 99.0, True),
        ("door-3", "door_contact", True, None, False),
    ]
    assert {r.site for r in readings} == {ns.site}
    assert redis_client.xlen(ns.deadletter) == 0


def test_unknown_devices_and_unreadable_payloads_are_dead_lettered_and_listed(
    ns: Namespace,
    devices: sessionmaker[Session],
    publisher: Publisher,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    base = f"z2m-{ns.uid}"
    with (
        running_worker(make_settings(ns, tmp_path / "snapshots")),
        running_bridge(ns, devices),
    ):
        publisher.publish(f"{base}/0x00158d000bbbbbb2", p.encode(p.AQARA_MOTION_RTCGQ11LM))
        publisher.publish(f"{base}/0x00158d000bbbbbb2", p.encode(p.AQARA_MOTION_RTCGQ11LM))
        publisher.publish(f"{base}/tuya-leak", b'{"water_leak": "wet"}')
        publisher.publish(f"ha-{ns.uid}/binary_sensor/unknown_door/state", b"on")
        publisher.publish(f"{base}/tuya-leak", p.encode(p.TUYA_LEAK_TS0207))
        assert wait_for(lambda: redis_client.xlen(ns.deadletter) >= 4)
        assert wait_for(lambda: redis_client.xlen(ns.stream) >= 1)
    letters = [f for _, f in redis_client.xrange(ns.deadletter)]
    assert [(f["reason"], f["topic"]) for f in letters] == [
        ("unknown_device", f"{base}/0x00158d000bbbbbb2"),
        ("unknown_device", f"{base}/0x00158d000bbbbbb2"),
        ("unreadable", f"{base}/tuya-leak"),
        ("unknown_device", f"ha-{ns.uid}/binary_sensor/unknown_door/state"),
    ]
    assert "water_leak is 'wet', not true/false" in letters[2]["detail"]
    assert base64.b64decode(letters[2]["payload_b64"]) == b'{"water_leak": "wet"}'
    assert letters[0]["worker"] == f"bridge:bridge-{ns.uid}"
    # The good message after them still got through.
    (reading,) = stream_readings(redis_client, ns.stream)
    assert (reading.device, reading.value) == ("leak-1", False)
    with devices() as session:
        listed = {(d.protocol.value, d.address): d for d in unassigned_devices(session)}
    assert set(listed) == {
        ("zigbee2mqtt", "0x00158d000bbbbbb2"),
        ("zigbee2mqtt", "tuya-leak"),
        ("homeassistant", "binary_sensor.unknown_door"),
    }
    motion = listed[("zigbee2mqtt", "0x00158d000bbbbbb2")]
    assert (motion.reason, motion.suggested_kinds) == ("unknown_device", ["motion"])
    assert motion.count == 1  # reported once a minute
    assert json.loads(motion.last_payload)["occupancy"] is True
    leak = listed[("zigbee2mqtt", "tuya-leak")]
    assert (leak.reason, leak.suggested_kinds) == ("unreadable", ["water_leak"])
    assert "water_leak is 'wet', not true/false" in leak.detail


def test_an_assigned_device_is_read_from_its_next_message(
    ns: Namespace,
    devices: sessionmaker[Session],
    publisher: Publisher,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    topic = f"z2m-{ns.uid}/0x00158d000bbbbbb2"
    with (
        running_worker(make_settings(ns, tmp_path / "snapshots")),
        running_bridge(ns, devices),
    ):
        publisher.publish(topic, p.encode(p.AQARA_MOTION_RTCGQ11LM))
        assert wait_for(lambda: redis_client.xlen(ns.deadletter) == 1)
        assert wait_for(lambda: listed(devices))
        with devices.begin() as session:
            (entry,) = unassigned_devices(session)
            assign_device(
                session,
                entry,
                Assignment(ns.site, "motion-9", ("motion",), location="卧室"),
                actor="杨秀兰",
                actor_id=None,
            )

        def heard() -> bool:
            publisher.publish(topic, p.encode(p.AQARA_MOTION_RTCGQ11LM))
            return wait_for(lambda: redis_client.xlen(ns.stream) >= 1, timeout=0.5)

        # The bridge picks up the changed table within its refresh interval.
        assert wait_for(heard, timeout=10, interval=0)
    (reading, *_) = stream_readings(redis_client, ns.stream)
    assert (reading.device, reading.sensor_type.value, reading.value) == (
        "motion-9",
        "motion",
        True,
    )
    with devices() as session:
        assert unassigned_devices(session) == []


HOME_ASSISTANT = [
    ("binary_sensor.li_kitchen_smoke", b"on", "smoke", True),
    ("sensor.li_bedroom_temperature", b"18.5", "temperature", 18.5),
    ("event.li_sos_button", b"2026-11-27T01:29:59.123+00:00", "sos_button", True),
]


def test_every_documented_device_gives_its_reading_through_the_broker(
    ns: Namespace, publisher: Publisher, redis_client: redis.Redis, tmp_path: Path
) -> None:
    """The payload of each Aqara, Tuya and SONOFF device of docs/sensors.md, and Home Assistant
    smoke, temperature and event entities, as the rules worker reads them off the stream."""
    engine = make_engine(f"sqlite:///{tmp_path}/records.sqlite3")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    rows = [
        f"{m.protocol},{m.address},{ns.site},{m.device},{';'.join(m.kinds)}"
        for m in TABLE
        if m.active
    ]
    for kind, text in {
        "sites": f"code\n{ns.site}\n",
        "devices": "protocol,address,site,device,kinds\n" + "\n".join(rows) + "\n",
    }.items():
        with sessions.begin() as session:
            assert import_csv(session, kind, text.encode()).applied
    device_of = {m.address: m.device for m in TABLE}
    with (
        running_worker(make_settings(ns, tmp_path / "snapshots")),
        running_bridge(ns, sessions),
    ):
        for name, state, *_ in CASES:
            publisher.publish(f"z2m-{ns.uid}/{name}", p.encode(state))
        for entity, payload, *_ in HOME_ASSISTANT:
            domain, object_id = entity.split(".")
            publisher.publish(f"ha-{ns.uid}/{domain}/{object_id}/state", payload)
        expected = len(CASES) + len(HOME_ASSISTANT)
        assert wait_for(lambda: redis_client.xlen(ns.stream) >= expected)
    engine.dispose()
    got = {
        (r.device, r.sensor_type.value, r.value, r.battery_pct)
        for r in stream_readings(redis_client, ns.stream)
    }
    assert got == {
        (device_of[name], kind, value, battery) for name, _, kind, value, battery in CASES
    } | {(device_of[entity], kind, value, None) for entity, _, kind, value in HOME_ASSISTANT}
    assert redis_client.xlen(ns.deadletter) == 0
