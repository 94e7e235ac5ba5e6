"""From the Zigbee devices to the alerts: Zigbee2MQTT payloads through the real broker, the
bridge, ingest and the rules worker. On a clock the test moves (the bridge's and the rules'),
a morning without activity raises one alert at 11:00 and a pressed SOS button a critical one,
a leak one that the sensor's dry reading ends; activity from any covering sensor (on a device
clock in UTC or local time) or the home camera (its event through the broker too) keeps the
morning quiet; sensor-offline and battery episodes start and end; an unknown SOS button, once
assigned to her, raises her SOS. In real time, a rules worker killed in the middle of a
silence's wait is replaced and the alert comes once, on time."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import Alert
from records.db import make_engine, make_sessionmaker
from records.device_registry import (
    Assignment,
    RecordsDeviceDirectory,
    assign_device,
    unassigned_devices,
)
from records.migrate import upgrade
from rules.config import RulesSettings
from rules.consumer import RulesConsumer
from rules.definitions import load_rules
from sensorbridge.config import BridgeSettings
from sensorbridge.worker import BridgeWorker
from shouwang.contracts import BehaviourEvent, EventType, Phase
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
from tests.records.village import import_village
from tests.rules.conftest import DEFAULT_RULES, Clock
from tests.sensorbridge import payloads as p
from tests.sensorbridge.test_bridge import listed

pytestmark = pytest.mark.integration
__all__ = ["ns", "publisher", "redis_client"]
ROOT = Path(__file__).parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
DOOR = "0x00158d0001a2b3c4"  # the village's door-wang (Aqara MCCGQ11LM)
MOTION = "0x00158d0001a2b3c5"  # motion-wang (Aqara RTCGQ11LM)
SOS = "0xa4c1380000000001"  # sos-wang (Tuya TS0215A_sos)
THERMOMETER = "wang/bedroom-temperature"  # temp-wang (SONOFF SNZB-02, a friendly name)
LEAK = "0x00124b0000000003"  # leak-wang (SONOFF SNZB-05)
SONOFF_LEAK = {"battery": 100, "battery_low": False, "linkquality": 100, "water_leak": False}


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def village(ns: Namespace, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """The example village (with its device table) at this test's site."""
    engine = make_engine(f"sqlite:///{tmp_path}/records.sqlite3")
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    import_village(sessions, site=ns.site)
    yield sessions
    engine.dispose()


def bridge_settings(ns: Namespace) -> BridgeSettings:
    return BridgeSettings.load(
        None,
        mqtt={"host": "127.0.0.1", "port": 1883},
        redis={"url": REDIS_URL},
        bridge={
            "client_id": f"bridge-{ns.uid}",
            "zigbee2mqtt_topics": [f"z2m-{ns.uid}"],
            "deadletter_stream": ns.deadletter,
            "state_key": f"test:{ns.uid}:bridge:last",
            "session_expiry_s": 60,
            "metrics_port": 0,
            "devices_refresh_s": 0.2,
        },
    )


@contextmanager
def running_bridge(
    ns: Namespace, sessions: sessionmaker[Session], clock: Any = time.time
) -> Iterator[BridgeWorker]:
    settings = bridge_settings(ns)
    worker = BridgeWorker(settings, RecordsDeviceDirectory(sessions), clock=clock)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.wait_subscribed(15), "the bridge did not subscribe"
        yield worker
    finally:
        worker.stop()
        thread.join(15)
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(settings.bridge.state_key, f"test:{ns.uid}:rules:silences")
        client.delete(f"test:{ns.uid}:rules:silences:state", f"test:{ns.uid}:rules:battery")
        client.close()


def rules_section(ns: Namespace, **extra: Any) -> dict[str, Any]:
    return {
        "stream": ns.stream,
        "deadletter_stream": ns.deadletter,
        "alerts_stream": f"test:{ns.uid}:alerts",
        "notifications_stream": f"test:{ns.uid}:notifications",
        "key_prefix": f"test:{ns.uid}:rules",
        "group_start": "0",
        "block_ms": 10,
        "coverage_cache_s": 0,
        "metrics_port": 0,
        **extra,
    }


class Devices:
    """Publishes Zigbee2MQTT state messages at the test's simulated time."""

    def __init__(
        self, ns: Namespace, publisher: Publisher, client: redis.Redis, clock: Clock
    ) -> None:
        self.ns, self.publisher, self.client, self.clock = ns, publisher, client, clock

    def send(self, when: datetime, name: str, state: dict[str, Any]) -> None:
        """The device `name` publishes `state` at `when`; waits until ingest stored it."""
        self.clock.now = when.timestamp()
        stored = self.client.xlen(self.ns.stream)
        self.publisher.publish(f"z2m-{self.ns.uid}/{name}", p.encode(state))
        assert wait_for(lambda: self.client.xlen(self.ns.stream) > stored), f"{name} got lost"


def drain(consumer: RulesConsumer, clock: Clock, when: datetime) -> None:
    clock.now = when.timestamp()
    idle = 0
    while idle < 2:
        idle = 0 if consumer.poll(block_ms=0) else idle + 1


def alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    with sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def test_a_quiet_morning_an_sos_press_and_sensor_health_from_zigbee_devices(
    ns: Namespace,
    village: sessionmaker[Session],
    publisher: Publisher,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    clock = Clock(at(6).timestamp())
    settings = RulesSettings.load(
        None,
        database={"url": f"sqlite:///{tmp_path}/records.sqlite3"},
        redis={"url": REDIS_URL},
        rules=rules_section(ns, consumer="w1"),
    )
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    consumer = RulesConsumer(settings, load_rules(DEFAULT_RULES), village, client, clock=clock)
    consumer.ensure_group()
    devices = Devices(ns, publisher, redis_client, clock)
    with (
        running_worker(make_settings(ns, tmp_path / "snapshots")),
        running_bridge(ns, village, clock),
    ):
        # 06:00: the door sensor and the motion sensor check in; nothing moves all morning.
        devices.send(at(6), DOOR, p.AQARA_DOOR_MCCGQ11LM | {"contact": True})
        devices.send(at(6, 5), MOTION, p.AQARA_MOTION_RTCGQ11LM | {"occupancy": False})
        devices.send(at(7, 55), DOOR, {"battery": 100, "voltage": 3025, "linkquality": 90})
        devices.send(at(8, 5), THERMOMETER, p.SONOFF_CLIMATE_SNZB02)
        drain(consumer, clock, at(10, 59, 59))
        assert alerts(village) == []
        drain(consumer, clock, at(11))
        (quiet,) = alerts(village)
        assert (quiet.rule_id, quiet.title) == (
            "elder_no_morning_activity",
            "王秀英今天上午没有活动",
        )
        # 11:05: the SOS button by her bed is pressed, and the thermometer is overdue.
        devices.send(at(11, 5), SOS, p.TUYA_SOS_TS0215A)
        drain(consumer, clock, at(11, 10))
        by_rule = {a.rule_id: a for a in alerts(village)}
        assert by_rule["sos_button"].severity.value == "critical"
        assert by_rule["sos_button"].title == "SOS 紧急求助 王秀英"
        assert by_rule["sensor_offline"].source == "temp-wang"
        # 11:20: she opens the door; its battery is low. 12:00: the battery was replaced.
        devices.send(at(11, 20), DOOR, p.AQARA_DOOR_MCCGQ11LM | {"battery": 12})
        devices.send(at(11, 25), THERMOMETER, p.SONOFF_CLIMATE_SNZB02)
        drain(consumer, clock, at(11, 30))
        devices.send(at(12), DOOR, p.AQARA_DOOR_MCCGQ11LM | {"contact": True, "battery": 100})
        drain(consumer, clock, at(12, 5))
        # 12:10: water under the kitchen sink; 12:20: dry again (a clear reading).
        devices.send(at(12, 10), LEAK, SONOFF_LEAK | {"water_leak": True})
        drain(consumer, clock, at(12, 15))
        devices.send(at(12, 20), LEAK, SONOFF_LEAK)
        drain(consumer, clock, at(12, 25))
    by_rule = {a.rule_id: a for a in alerts(village)}
    assert set(by_rule) == {
        "elder_no_morning_activity",
        "sos_button",
        "sensor_offline",
        "sensor_battery_low",
        "water_leak",
    }
    leak = by_rule["water_leak"]
    assert (leak.first_seen_at, leak.condition_ended_at) == (at(12, 10), at(12, 20))
    assert by_rule["elder_no_morning_activity"].condition_ended_at == at(11, 20)
    assert by_rule["sensor_offline"].condition_ended_at == at(11, 25)
    battery = by_rule["sensor_battery_low"]
    # The title names the sensor by where it is fitted (the device table), not by its id.
    assert (battery.source, battery.title) == ("door-wang", "请更换传感器电池（堂屋大门）")
    assert (battery.first_seen_at, battery.condition_ended_at) == (at(11, 20), at(12))
    client.close()


def home_camera_ends(site: str, when: datetime, reason: str) -> str:
    """The home camera's inactivity watch ends (`activity`: someone moved; `hours`: its watch
    hours ended), as the edge publishes it."""
    return BehaviourEvent(
        schema_version=1,
        event_id=str(uuid.uuid4()),
        episode_id="inactivity-room-1",
        type=EventType.INACTIVITY,
        phase=Phase.END,
        site=site,
        edge="edge-01",
        camera="cam-home-wang",
        observed_at=when,
        started_at=at(7),
        confidence=0.9,
        zone="room",
        zone_tags=("home",),
        attributes={"inactive_s": 3600.0, "end_reason": reason},
    ).model_dump_json()


@pytest.mark.parametrize(
    ("activity", "raised"),
    [
        ("motion-on-a-utc-clock", []),
        ("door-opened-at-10-59", []),
        ("home-camera-saw-her", []),
        ("home-camera-hours-ended", [at(11)]),  # not activity: the alert still comes, on time
    ],
)
def test_any_covering_sensor_or_the_home_camera_keeps_the_morning_quiet(
    ns: Namespace,
    village: sessionmaker[Session],
    publisher: Publisher,
    redis_client: redis.Redis,
    tmp_path: Path,
    activity: str,
    raised: list[datetime],
) -> None:
    clock = Clock(at(6).timestamp())
    settings = RulesSettings.load(
        None,
        database={"url": f"sqlite:///{tmp_path}/records.sqlite3"},
        redis={"url": REDIS_URL},
        rules=rules_section(ns, consumer="w1"),
    )
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    consumer = RulesConsumer(settings, load_rules(DEFAULT_RULES), village, client, clock=clock)
    consumer.ensure_group()
    devices = Devices(ns, publisher, redis_client, clock)
    with (
        running_worker(make_settings(ns, tmp_path / "snapshots")),
        running_bridge(ns, village, clock),
    ):
        devices.send(at(6), DOOR, p.AQARA_DOOR_MCCGQ11LM | {"contact": True})  # starts the watch
        if activity == "motion-on-a-utc-clock":  # 01:00Z is 09:00 in Shanghai, heard at 09:02
            moved = {"occupancy": True, "last_seen": "2026-11-27T01:00:00Z"}
            devices.send(at(9, 2), MOTION, p.AQARA_MOTION_RTCGQ11LM | moved)
        elif activity == "door-opened-at-10-59":
            opened = {"contact": False, "last_seen": at(10, 59).isoformat()}
            devices.send(at(10, 59, 30), DOOR, p.AQARA_DOOR_MCCGQ11LM | opened)
        else:
            clock.now = at(9, 30).timestamp()
            stored = redis_client.xlen(ns.stream)
            topic = f"shouwang/v1/{ns.site}/cam-home-wang/event"
            reason = "activity" if activity == "home-camera-saw-her" else "hours"
            publisher.publish(topic, home_camera_ends(ns.site, at(9, 30), reason))
            assert wait_for(lambda: redis_client.xlen(ns.stream) > stored)
        for when in (at(10, 59, 59), at(11), at(12), at(20)):
            drain(consumer, clock, when)
    morning = [a for a in alerts(village) if a.rule_id == "elder_no_morning_activity"]
    assert [a.first_seen_at for a in morning] == raised
    if activity == "motion-on-a-utc-clock":
        (_, fields), *_ = redis_client.xrevrange(ns.stream, count=1)
        reading = json.loads(fields["payload"])
        assert datetime.fromisoformat(reading["observed_at"]) == datetime(
            2026, 11, 27, 1, 0, tzinfo=UTC
        )
    assert redis_client.xlen(ns.deadletter) == 0
    client.close()


def test_a_new_sos_button_assigned_to_her_raises_her_sos(
    ns: Namespace,
    village: sessionmaker[Session],
    publisher: Publisher,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    """Unknown, it is dead-lettered and listed; once the grid worker assigned it to 王秀英, its
    next press is her critical SOS alert."""
    clock = Clock(at(9).timestamp())
    settings = RulesSettings.load(
        None,
        database={"url": f"sqlite:///{tmp_path}/records.sqlite3"},
        redis={"url": REDIS_URL},
        rules=rules_section(ns, consumer="w1"),
    )
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    consumer = RulesConsumer(settings, load_rules(DEFAULT_RULES), village, client, clock=clock)
    consumer.ensure_group()
    button = "0xa4c13800000000b1"
    with (
        running_worker(make_settings(ns, tmp_path / "snapshots")),
        running_bridge(ns, village, clock) as bridge,
    ):
        publisher.publish(f"z2m-{ns.uid}/{button}", p.encode(p.TUYA_SOS_TS0215A))
        assert wait_for(lambda: redis_client.xlen(ns.deadletter) == 1)
        assert wait_for(lambda: listed(village))
        with village.begin() as session:
            (entry,) = unassigned_devices(session)
            assert (entry.address, entry.suggested_kinds) == (button, ["sos_button"])
            assignment = Assignment(ns.site, "sos-wang-2", ("sos_button",), person="P001")
            assign_device(session, entry, assignment, actor="杨秀兰", actor_id=None)
        assert wait_for(lambda: bridge.translator.index.find("zigbee2mqtt", button) is not None)
        devices = Devices(ns, publisher, redis_client, clock)
        devices.send(at(9, 30), button, p.TUYA_SOS_TS0215A)
        drain(consumer, clock, at(9, 31))
    (sos,) = alerts(village)
    assert (sos.rule_id, sos.source, sos.severity.value) == ("sos_button", "sos-wang-2", "critical")
    assert sos.title == "SOS 紧急求助 王秀英"
    client.close()


SILENCE_S = 12
"""The restart test's silence: longer than a loaded box takes to store a reading and arm it."""


def test_a_killed_rules_worker_is_replaced_in_the_middle_of_a_silence(
    ns: Namespace,
    village: sessionmaker[Session],
    publisher: Publisher,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "rules": [
                    {
                        "id": "no_motion_briefly",
                        "match": {
                            "kind": "absence",
                            "types": ["motion"],
                            "value": True,
                            "silent_s": SILENCE_S,
                        },
                        "alert": {"severity": "high", "title": "{persons}一直没有动静"},
                    }
                ],
            }
        )
    )
    config = tmp_path / "shouwang.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": {"url": f"sqlite:///{tmp_path}/records.sqlite3"},
                "redis": {"url": REDIS_URL},
                "rules": rules_section(ns, file=str(rules), block_ms=100, reclaim_idle_ms=0),
            }
        )
    )

    def start(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("ab")
        command = ["rules", "run", "-c", str(config), "--consumer", name, "--json-logs"]
        return subprocess.Popen(
            [sys.executable, "-m", "shouwang", *command],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    with (
        running_worker(make_settings(ns, tmp_path / "snapshots")),
        running_bridge(ns, village),
    ):
        first = start("first")
        try:
            # Read the reading only once the worker runs (a slow start on a loaded box must not
            # eat the silence before the kill).
            first_log = tmp_path / "first.log"
            assert wait_for(lambda: "rules worker started" in first_log.read_text(), timeout=60)
            publisher.publish(
                f"z2m-{ns.uid}/{MOTION}", p.encode({"occupancy": False, "battery": 90})
            )
            heard = time.time()
            assert wait_for(lambda: redis_client.xlen(ns.stream) == 1)
            silences = f"test:{ns.uid}:rules:silences"
            assert wait_for(lambda: redis_client.zcard(silences) == 1, timeout=30), (
                tmp_path / "first.log"
            ).read_text()
            due = float(redis_client.zrange(silences, 0, 0, withscores=True)[0][1]) / 1000
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            second = start("second")
            try:
                assert wait_for(lambda: bool(alerts(village)), timeout=40), (
                    tmp_path / "second.log"
                ).read_text()
                raised = time.time()
                time.sleep(1.0)  # long enough for a second firing to show
            finally:
                second.terminate()
                second.wait(30)
        finally:
            if first.poll() is None:
                first.kill()
    (alert,) = alerts(village)
    assert (alert.rule_id, alert.title) == ("no_motion_briefly", "王秀英一直没有动静")
    assert abs(due - (heard + SILENCE_S)) < 2  # counted from the reading, not a restart
    assert alert.first_seen_at.timestamp() == pytest.approx(due, abs=0.01)
    assert raised >= due - 0.5
    assert alert.details["attributes"]["silent_s"] == SILENCE_S
    assert redis_client.xlen(ns.deadletter) == 0
