"""Absence rules through the consumer group on a clock the test moves: "王秀英今天上午没有活动"
fires once at 11:00 when no covering sensor or camera saw activity all morning, never when one
did, ends when activity comes back, and survives a worker restart in the middle of the wait."""

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import Alert, AlertEvent
from records.feed import Change
from rules.consumer import RulesConsumer
from shouwang.contracts import EventType, Phase, SensorType
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import event, sensor
from tests.rules.conftest import Clock, add, alerts, changes, drain, notified

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = "elder_no_morning_activity"


def at(hour: int, minute: int = 0, second: int = 0, day: int = 27) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=SHANGHAI)


def reading(kind: SensorType, value: bool, when: datetime, **extra: object) -> dict[str, str]:
    device = {SensorType.DOOR_CONTACT: "door-wang", SensorType.MOTION: "motion-wang"}[kind]
    return sensor(kind, value, device=device, at=when, **extra)  # type: ignore[arg-type]


def home_camera(phase: Phase, when: datetime, **attributes: object) -> dict[str, str]:
    return event(
        EventType.INACTIVITY,
        camera="cam-home-wang",
        phase=phase,
        at=when,
        zone="room",
        tags=("home",),
        attributes={"inactive_s": 3600.0, **attributes},
        episode_id="inactivity-room-1",
    )


def morning_alerts(sessions: sessionmaker[Session]) -> list[Alert]:
    return [a for a in alerts(sessions) if a.rule_id == MORNING]


def run_until(consumer: RulesConsumer, clock: Clock, when: datetime) -> None:
    """Move the clock to `when` and let the worker do what is due."""
    clock.now = when.timestamp()
    drain(consumer)


@pytest.fixture
def worker(consumer_for: Callable[..., RulesConsumer], clock: Clock) -> RulesConsumer:
    clock.now = at(6).timestamp()
    return consumer_for()


def test_a_morning_without_activity_raises_one_alert_at_eleven(
    worker: RulesConsumer,
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    # The door sensor checks in at 06:00 (closed: no activity), which starts the watch.
    add(redis_client, names, reading(SensorType.DOOR_CONTACT, False, at(6)))
    run_until(worker, clock, at(10, 59, 59))
    assert morning_alerts(village) == []
    run_until(worker, clock, at(11))
    (alert,) = morning_alerts(village)
    assert (alert.title, alert.severity.value, alert.type) == (
        "王秀英今天上午没有活动",
        "high",
        "no_activity",
    )
    assert alert.first_seen_at == at(11) and [p.person_id for p in alert.persons]
    assert (alert.source, alert.details["source_name"]) == ("P001", "王秀英")  # not the code
    jobs = notified(redis_client, names)
    assert {(j.role, j.recipient_name) for j in jobs if j.alert_id == alert.id} == {
        ("guardian", "王丽"),
        ("guardian", "王强"),
        ("grid_worker", "杨秀兰"),
    }
    for when in (at(11, 30), at(20), at(6, day=28)):
        run_until(worker, clock, when)
    assert len(morning_alerts(village)) == 1
    # Still nothing the next morning: the next morning is a new alert.
    run_until(worker, clock, at(11, day=28))
    assert [a.first_seen_at for a in morning_alerts(village)] == [at(11), at(11, day=28)]


@pytest.mark.parametrize(
    "entry",
    [
        reading(SensorType.MOTION, True, at(8)),
        reading(SensorType.DOOR_CONTACT, True, at(10, 59)),
        # The same moment from a device clock in UTC.
        reading(SensorType.DOOR_CONTACT, True, at(9).astimezone(ZoneInfo("UTC"))),
        home_camera(Phase.END, at(9, 30), end_reason="activity"),
    ],
    ids=["motion", "door-opened", "utc-offset", "camera-saw-someone"],
)
def test_any_covering_sensor_or_camera_activity_keeps_it_quiet(
    worker: RulesConsumer,
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    entry: dict[str, str],
) -> None:
    add(redis_client, names, reading(SensorType.DOOR_CONTACT, False, at(6)), entry)
    for when in (at(11), at(12), at(20)):
        run_until(worker, clock, when)
    assert morning_alerts(village) == []


@pytest.mark.parametrize(
    "entry",
    [
        reading(SensorType.DOOR_CONTACT, True, at(9), attributes={"repeated": True}),
        reading(SensorType.DOOR_CONTACT, False, at(9)),
        reading(SensorType.MOTION, False, at(9)),
        home_camera(Phase.END, at(9), end_reason="hours"),
        home_camera(Phase.START, at(9)),
    ],
    ids=["repeat-of-open", "door-closing", "no-motion", "camera-hours-end", "camera-quiet"],
)
def test_what_is_not_activity_does_not_stop_it(
    worker: RulesConsumer,
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    entry: dict[str, str],
) -> None:
    add(redis_client, names, reading(SensorType.DOOR_CONTACT, False, at(6)), entry)
    run_until(worker, clock, at(11))
    assert len(morning_alerts(village)) == 1


def test_it_waits_while_the_home_camera_sees_someone(
    worker: RulesConsumer,
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    # Seen at 06:30 by the camera, and the camera has not gone quiet since: she is there.
    add(
        redis_client,
        names,
        reading(SensorType.DOOR_CONTACT, False, at(6)),
        home_camera(Phase.END, at(6, 30), end_reason="activity"),
    )
    run_until(worker, clock, at(11))
    assert morning_alerts(village) == []
    # The next day the camera has gone quiet at 08:00 (nobody since 07:00): then it raises.
    add(redis_client, names, home_camera(Phase.START, at(8, day=28)))
    run_until(worker, clock, at(11, day=28))
    assert [a.first_seen_at for a in morning_alerts(village)] == [at(11, day=28)]


def test_activity_after_the_alert_ends_its_condition(
    worker: RulesConsumer,
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    add(redis_client, names, reading(SensorType.MOTION, False, at(6)))
    run_until(worker, clock, at(11, 5))
    (alert,) = morning_alerts(village)
    # Her door opens at 10:58, its reading arrives late, at 11:10; then she walks by at 11:20.
    add(redis_client, names, reading(SensorType.DOOR_CONTACT, True, at(10, 58)))
    run_until(worker, clock, at(11, 10))
    (ended,) = morning_alerts(village)
    assert ended.condition_ended_at == at(11)  # no earlier than it was raised
    add(redis_client, names, reading(SensorType.MOTION, True, at(11, 20)))
    run_until(worker, clock, at(11, 30))
    announced = changes(redis_client, names)
    # Nobody was on site by 11:05 (a high alert's arrival deadline, announced in the worker's
    # pass that also ended the condition); the walk at 11:20 adds nothing to the ended alert.
    assert sorted(c.change for c in announced if c.alert_id == alert.id) == sorted(
        [Change.CREATED, Change.ARRIVAL_MISSED, Change.ENDED]
    )
    with village() as session:
        phases = session.scalars(
            select(AlertEvent.phase).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)
        )
        assert list(phases) == ["start", "end"]


def test_timers_survive_a_worker_restart_in_the_middle_of_the_wait(
    consumer_for: Callable[..., RulesConsumer],
    clock: Clock,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    clock.now = at(6).timestamp()
    first = consumer_for(consumer="w1")
    add(redis_client, names, reading(SensorType.DOOR_CONTACT, False, at(6)))
    run_until(first, clock, at(9))
    del first  # the worker is gone; nothing of the wait lived in it
    second = consumer_for(consumer="w2")
    run_until(second, clock, at(10, 59))
    assert morning_alerts(village) == []
    run_until(second, clock, at(11))
    assert len(morning_alerts(village)) == 1
