"""Each rule of configs/rules.yaml fires on its event and stays silent on near misses: wrong
zone, outside the window, below confidence, person not on any list, value under threshold."""

from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from edge.config.analysers import UnattendedConfig
from rules.consumer import RulesConsumer
from shouwang.contracts import EdgeState, EventType, Phase, SensorType
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import NIGHT, NOON, event, sensor, status
from tests.rules.conftest import Clock, add, alerts, drain

pytestmark = pytest.mark.integration
E, S = EventType, SensorType
BRIDGE = {"camera": "cam-bridge", "zone": "river_bank"}

CASES: dict[str, tuple[dict[str, str], dict[str, dict[str, str]]]] = {
    "elder_fall": (
        event(E.FALL, camera="cam-home-wang"),
        {
            "below confidence": event(E.FALL, camera="cam-home-wang", confidence=0.3),
            "person not on any list": event(E.FALL, camera="cam-square"),
            "an end alone": event(E.FALL, camera="cam-home-wang", phase=Phase.END),
        },
    ),
    "elder_person_down": (
        event(E.PERSON_DOWN, camera="cam-home-wang", attributes={"down_s": 20.0}),
        {
            "person not on any list": event(E.PERSON_DOWN, camera="cam-square"),
            "a fall is another rule": event(E.FALL, camera="cam-home-wang", confidence=0.3),
        },
    ),
    "elder_long_lie": (
        event(  # a weak fall (below elder_fall's confidence) still down after a minute
            E.FALL,
            camera="cam-home-wang",
            phase=Phase.UPDATE,
            confidence=0.3,
            attributes={"down_s": 61.0, "long_lie": True},
        ),
        {
            "not yet long": event(
                E.FALL,
                camera="cam-home-wang",
                phase=Phase.UPDATE,
                confidence=0.3,
                attributes={"down_s": 30.0},
            ),
            "a start": event(
                E.FALL, camera="cam-home-wang", confidence=0.3, attributes={"long_lie": True}
            ),
            "person not on any list": event(
                E.FALL, camera="cam-square", phase=Phase.UPDATE, attributes={"long_lie": True}
            ),
        },
    ),
    "child_unattended_hazard": (
        event(E.UNATTENDED_CHILD, **BRIDGE, tags=("water",), confidence=0.6),
        {
            "wrong zone": event(
                E.UNATTENDED_CHILD,
                camera="cam-bridge",
                zone="lawn",
                tags=("grass",),
                confidence=0.6,
            ),
            "below confidence": event(
                E.UNATTENDED_CHILD, **BRIDGE, tags=("water",), confidence=0.3
            ),
        },
    ),
    "night_loitering_watched_household": (
        event(E.LOITERING, camera="cam-gate-li", at=NIGHT, confidence=0.7),
        {
            "outside the window": event(E.LOITERING, camera="cam-gate-li", at=NOON),
            "person not on any list": event(E.LOITERING, camera="cam-square", at=NIGHT),
            "below confidence": event(E.LOITERING, camera="cam-gate-li", at=NIGHT, confidence=0.2),
        },
    ),
    "elder_inactivity": (
        event(E.INACTIVITY, camera="cam-home-wang", attributes={"inactive_s": 14400.0}),
        {"person not on any list": event(E.INACTIVITY, camera="cam-square")},
    ),
    "sos_button": (
        sensor(S.SOS_BUTTON, True, device="sos-wang"),
        {"not pressed": sensor(S.SOS_BUTTON, False, device="sos-wang")},
    ),
    "smoke": (
        sensor(S.SMOKE, True, device="smoke-wang"),
        {"no smoke": sensor(S.SMOKE, False, device="smoke-wang")},
    ),
    "high_water_level": (
        sensor(S.WATER_LEVEL, 1.8, device="gauge-river"),
        {"below the warning level": sensor(S.WATER_LEVEL, 1.2, device="gauge-river")},
    ),
    "camera_intrusion_watched_child_night": (
        event(E.INTRUSION, camera="cam-gate-li", at=NIGHT, confidence=1.0),
        {
            "outside the window": event(E.INTRUSION, camera="cam-gate-li", at=NOON),
            "person not on any list": event(E.REGION_ENTRANCE, camera="cam-square", at=NIGHT),
        },
    ),
    "camera_crowd": (
        event(E.CROWD, camera="cam-square"),
        {"another alarm type": event(E.MOTION, camera="cam-square")},
    ),
    "camera_tamper": (
        event(E.VIDEO_TAMPER, camera="cam-square"),
        {"an end alone": event(E.VIDEO_TAMPER, camera="cam-square", phase=Phase.END)},
    ),
    "camera_fault": (
        event(E.CAMERA_FAULT, camera="cam-square"),
        {"a fall elsewhere": event(E.FALL, camera="cam-square")},
    ),
    "water_leak": (
        sensor(S.WATER_LEAK, True, device="leak-wang"),
        {"dry": sensor(S.WATER_LEAK, False, device="leak-wang")},
    ),
    "sensor_battery_low": (
        sensor(S.DOOR_CONTACT, False, device="door-1", battery_pct=12),
        {
            "battery fine": sensor(S.DOOR_CONTACT, False, device="door-1", battery_pct=60),
            "battery unknown": sensor(S.DOOR_CONTACT, False, device="door-1"),
        },
    ),
}


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_its_event(
    rule_id: str,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    add(redis_client, names, CASES[rule_id][0])
    drain(consumer)
    assert [a.rule_id for a in alerts(village)] == [rule_id]


NEAR_MISSES = [(rule, why) for rule, (_, misses) in sorted(CASES.items()) for why in misses]


@pytest.mark.parametrize(("rule_id", "why"), NEAR_MISSES, ids=[f"{r}: {w}" for r, w in NEAR_MISSES])
def test_rule_stays_silent_on_a_near_miss(
    rule_id: str,
    why: str,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    add(redis_client, names, CASES[rule_id][1][why])
    drain(consumer)
    assert alerts(village) == []


@pytest.mark.parametrize("tag", UnattendedConfig().hazard_tags)
def test_every_hazard_tag_the_edge_sends_by_default_raises_an_alert(
    tag: str,
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    """A child alone in a zone the edge calls a hazard by default (water, road, well) is an
    alert: the edge's default tags and the default rules must not drift apart."""
    child_alone = event(
        E.UNATTENDED_CHILD, camera="cam-bridge", zone=f"{tag}-1", tags=(tag,), confidence=0.6
    )
    add(redis_client, names, child_alone)
    drain(consumer)
    raised = alerts(village)
    assert raised, f"no default rule matches a child alone in a zone tagged {tag!r}"
    assert {a.severity.value for a in raised} == {"critical"}


def test_sos_and_smoke_concern_the_household_they_are_in(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    add(
        redis_client,
        names,
        sensor(S.SOS_BUTTON, True, device="sos-wang"),
        sensor(S.SMOKE, True, device="smoke-wang"),
    )
    drain(consumer)
    sos, smoke = alerts(village)
    assert sos.title == "SOS 紧急求助 王秀英" and smoke.title == "烟雾报警 马岩村一组12号"
    assert [p.person_id for p in sos.persons] == [p.person_id for p in smoke.persons]
    assert sos.area_id == smoke.area_id is not None


def _offline_cases() -> list[
    tuple[str, Callable[..., dict[str, str]], Callable[..., dict[str, str]]]
]:
    def camera_down(at: object) -> dict[str, str]:
        return event(
            E.CAMERA_OFFLINE,
            camera="cam-bridge",
            at=at,
            event_id="cam-bridge-down-1",
            confidence=1.0,
        )

    def camera_up(at: object) -> dict[str, str]:
        return event(
            E.CAMERA_OFFLINE,
            camera="cam-bridge",
            at=at,
            phase=Phase.END,
            episode_id="cam-bridge-down-1",
            confidence=1.0,
        )

    return [
        (
            "edge_offline",
            lambda at: status(EdgeState.OFFLINE, at=at),
            lambda at: status(EdgeState.ONLINE, at=at),
        ),
        ("camera_offline", camera_down, camera_up),
    ]


@pytest.mark.parametrize(("rule_id", "down", "up"), _offline_cases(), ids=["edge", "camera"])
def test_offline_alerts_only_after_ten_minutes_without_coming_back(
    rule_id: str,
    down: Callable[..., dict[str, str]],
    up: Callable[..., dict[str, str]],
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    clock: Clock,
) -> None:
    add(redis_client, names, down(NOON))
    drain(consumer)
    clock.advance(590)
    drain(consumer)
    assert alerts(village) == [], "10 minutes have not passed"
    clock.advance(20)
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.rule_id == rule_id and alert.first_seen_at == NOON
    # Back after 5 minutes (long after the cooldown): no alert, even once 10 minutes are over.
    later = NOON + timedelta(hours=3)
    clock.now = later.timestamp()
    add(
        redis_client,
        names,
        down(later)
        if rule_id == "edge_offline"
        else event(E.CAMERA_OFFLINE, camera="cam-bridge", at=later, event_id="cam-bridge-down-2"),
    )
    drain(consumer)
    clock.advance(300)
    add(
        redis_client,
        names,
        up(later + timedelta(minutes=5))
        if rule_id == "edge_offline"
        else event(
            E.CAMERA_OFFLINE,
            camera="cam-bridge",
            at=later + timedelta(minutes=5),
            phase=Phase.END,
            episode_id="cam-bridge-down-2",
        ),
    )
    drain(consumer)
    clock.advance(600)
    drain(consumer)
    (alert,) = alerts(village)
    assert alert.event_count == 1
