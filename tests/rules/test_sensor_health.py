"""Sensor health and sensor episodes through the consumer group on a moving clock: a sensor
silent past its kind's report interval raises `sensor_offline` for the grid worker and a reading
ends it; a low battery asks for a replacement and the episode ends when it reads high again; a
clear reading (smoke gone, floor dry) ends the alarm's episode."""

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import Alert
from records.feed import Change
from rules.consumer import RulesConsumer
from shouwang.contracts import SensorType
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import sensor
from tests.rules.conftest import Clock, add, alerts, changes, drain, notified

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 27, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def of_rule(sessions: sessionmaker[Session], rule_id: str) -> list[Alert]:
    return [a for a in alerts(sessions) if a.rule_id == rule_id]


def run_until(consumer: RulesConsumer, clock: Clock, when: datetime) -> None:
    clock.now = when.timestamp()
    drain(consumer)


def changes_of(client: redis.Redis, names: RedisNames, alert_id: int) -> list[Change]:
    return [c.change for c in changes(client, names) if c.alert_id == alert_id]


@pytest.fixture
def worker(consumer_for: Callable[..., RulesConsumer], clock: Clock) -> RulesConsumer:
    clock.now = START.timestamp()
    return consumer_for()


def test_a_silent_sensor_is_offline_after_its_kinds_interval_until_it_reports(
    worker: RulesConsumer,
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    hour = timedelta(hours=1)
    add(
        redis_client,
        names,
        sensor(SensorType.DOOR_CONTACT, False, device="door-wang", at=START, battery_pct=90),
        sensor(
            SensorType.TEMPERATURE,
            21.5,
            device="temp-wang",
            at=START,
            battery_pct=90,
            device_name="厨房",  # where the bridge's device table says it is fitted
        ),
    )
    # A repeated report is a sign of life too.
    add(
        redis_client,
        names,
        sensor(
            SensorType.DOOR_CONTACT,
            False,
            device="door-wang",
            at=START + 2 * hour,
            attributes={"repeated": True},
        ),
    )
    run_until(worker, clock, START + 3 * hour - timedelta(seconds=1))
    assert of_rule(village, "sensor_offline") == []
    run_until(worker, clock, START + 3 * hour)  # a thermometer reports hourly: 3 h is too long
    (thermometer,) = of_rule(village, "sensor_offline")
    assert (thermometer.source, thermometer.title) == (
        "temp-wang",
        "传感器离线（厨房），请检查",
    )
    assert thermometer.details["attributes"]["sensor_type"] == "temperature"
    jobs = notified(redis_client, names)
    assert {(j.role, j.recipient_name) for j in jobs} == {("grid_worker", "杨秀兰")}
    run_until(
        worker, clock, START + 2 * hour + timedelta(hours=25)
    )  # the door: 25 h after its last
    door = next(a for a in of_rule(village, "sensor_offline") if a.source == "door-wang")
    assert door.first_seen_at == START + 27 * hour
    assert len(of_rule(village, "sensor_offline")) == 2
    # It reports again: the episode ends (once), and a new silence is a new one.
    add(
        redis_client,
        names,
        sensor(SensorType.DOOR_CONTACT, False, device="door-wang", at=START + 28 * hour),
    )
    run_until(worker, clock, START + 28 * hour)
    door = next(a for a in of_rule(village, "sensor_offline") if a.source == "door-wang")
    assert door.condition_ended_at == START + 28 * hour
    assert changes_of(redis_client, names, door.id) == [Change.CREATED, Change.ENDED]


def test_low_battery_asks_for_a_replacement_until_it_reads_high_again(
    worker: RulesConsumer,
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    def battery(minutes: int, pct: float | None, **attributes: object) -> dict[str, str]:
        return sensor(
            SensorType.SOS_BUTTON,
            False,
            device="sos-wang",
            at=START + timedelta(minutes=minutes),
            battery_pct=pct,
            attributes={"repeated": True, **attributes},
            device_name="床头",
        )

    add(redis_client, names, battery(0, 35), battery(10, 18), battery(20, 15), battery(30, 30))
    run_until(worker, clock, START + timedelta(minutes=40))
    (low,) = of_rule(village, "sensor_battery_low")
    assert (low.title, low.severity.value, low.event_count) == (
        "请更换传感器电池（床头）",
        "low",
        1,
    )
    assert low.condition_ended_at is None  # 30 % is not "replaced"
    add(redis_client, names, battery(50, 100))
    run_until(worker, clock, START + timedelta(minutes=60))
    (replaced,) = of_rule(village, "sensor_battery_low")
    assert replaced.condition_ended_at == START + timedelta(minutes=50)
    assert changes_of(redis_client, names, low.id) == [Change.CREATED, Change.ENDED]
    # A device that only says battery_low (Tuya smoke detectors) opens and ends it too.
    add(
        redis_client,
        names,
        sensor(
            SensorType.SMOKE, False, device="smoke-wang", at=START, attributes={"battery_low": True}
        ),
        sensor(
            SensorType.SMOKE,
            False,
            device="smoke-wang",
            at=START + timedelta(days=1),
            attributes={"battery_low": False},
        ),
    )
    run_until(worker, clock, START + timedelta(days=1))
    smoke = next(a for a in of_rule(village, "sensor_battery_low") if a.source == "smoke-wang")
    assert smoke.condition_ended_at == START + timedelta(days=1)


@pytest.mark.parametrize(
    ("kind", "device", "rule"),
    [(SensorType.SMOKE, "smoke-wang", "smoke"), (SensorType.WATER_LEAK, "leak-wang", "water_leak")],
)
def test_a_clear_reading_ends_the_sensor_episode(
    worker: RulesConsumer,
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    kind: SensorType,
    device: str,
    rule: str,
) -> None:
    minute = timedelta(minutes=1)
    add(
        redis_client,
        names,
        sensor(kind, True, device=device, at=START),
        sensor(kind, True, device=device, at=START + minute),
        sensor(kind, False, device=device, at=START + 5 * minute),
        sensor(kind, False, device=device, at=START + 6 * minute, attributes={"repeated": True}),
    )
    run_until(worker, clock, START + 10 * minute)
    (alert,) = of_rule(village, rule)
    assert (alert.event_count, alert.condition_ended_at) == (2, START + 5 * minute)
    assert changes_of(redis_client, names, alert.id) == [
        Change.CREATED,
        Change.UPDATED,
        Change.ENDED,
    ]
    # The alarm again within the cooldown: the alert takes it and the condition is on again.
    add(redis_client, names, sensor(kind, True, device=device, at=START + 8 * minute))
    run_until(worker, clock, START + 12 * minute)
    (again,) = of_rule(village, rule)
    assert (again.event_count, again.condition_ended_at) == (3, None)
