"""The issue's two stories, end to end through the consumer group."""

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from records.feed import Change
from records.types import AlertStatus, Severity
from rules.consumer import RulesConsumer
from shouwang.contracts import EventType, Phase
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import NOON, event
from tests.rules.conftest import add, alerts, changes, drain, notified

pytestmark = pytest.mark.integration


def test_stranger_lying_on_a_bench_at_noon_raises_nothing(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    # A camera on the village square covers nobody on the watch list.
    bench = {"camera": "cam-square", "at": NOON}
    start = event(EventType.FALL, **bench, attributes={"down_s": 0.0})
    episode = start["key"].removeprefix("event:")
    add(redis_client, names, start)
    for seconds in (15, 30, 60, 120):
        add(
            redis_client,
            names,
            event(
                EventType.FALL,
                **bench,
                phase=Phase.UPDATE,
                episode_id=episode,
                attributes={"down_s": float(seconds), "severity": "high"},
            ),
        )
    add(redis_client, names, event(EventType.LOITERING, **bench, attributes={"dwell_s": 300.0}))
    add(redis_client, names, event(EventType.INACTIVITY, **bench))
    drain(consumer)
    assert alerts(village) == []
    assert redis_client.xlen(names.streams.notifications) == 0
    assert consumer.counts["processed"] == 7


def test_elder_falls_at_home_one_critical_alert_for_guardians_grid_worker_and_duty_office(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    # The edge names its camera and zone in every event (its config's `name`s).
    room = {"camera": "cam-home-wang", "camera_name": "堂屋", "zone": "bed", "zone_name": "床边"}
    start = event(EventType.FALL, **room, attributes={"down_s": 0.0})
    episode = start["key"].removeprefix("event:")
    updates = [
        event(
            EventType.FALL,
            **room,
            phase=Phase.UPDATE,
            episode_id=episode,
            attributes={"down_s": float(s)},
        )
        for s in (10, 20, 30)
    ]
    add(redis_client, names, start, *updates)
    drain(consumer)

    (alert,) = alerts(village)
    assert (alert.rule_id, alert.severity, alert.status) == (
        "elder_fall",
        Severity.CRITICAL,
        AlertStatus.NEW,
    )
    assert alert.title == "老人跌倒：王秀英"
    assert alert.event_count == 4
    assert alert.details["address"] == "马岩村一组12号"
    assert (alert.details["source_name"], alert.details["zone_name"]) == ("堂屋", "床边")
    sent = notified(redis_client, names)
    assert {(j.role, j.recipient_name) for j in sent} == {
        ("guardian", "王丽"),
        ("guardian", "王强"),
        ("grid_worker", "杨秀兰"),
        ("duty_officer", "灯塔街道值班室"),
    }
    assert {j.step for j in sent} == {0} and {j.alert_id for j in sent} == {alert.id}
    wang_li = next(j for j in sent if j.recipient_name == "王丽")
    assert wang_li.channels == ("webpush", "dingtalk://example-token-2")
    assert wang_li.body == "【危急】老人跌倒：王秀英｜马岩村一组12号 · 堂屋｜11-27 12:00"
    assert (wang_li.place, wang_li.lead) == ("马岩村一组12号 · 堂屋", "")
    announced = changes(redis_client, names)
    assert [c.change for c in announced] == [Change.CREATED] + [Change.UPDATED] * 3
    assert announced[-1].alert["event_count"] == 4
    assert announced[0].person_ids == announced[-1].person_ids


def test_elder_found_on_the_floor_high_then_critical_after_the_long_lie(
    consumer: RulesConsumer,
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    """No fall was seen; the camera reports her lying 20 s, then still down after a minute."""
    home = {"camera": "cam-home-wang"}
    start = event(EventType.PERSON_DOWN, **home, confidence=0.8, attributes={"down_s": 20.0})
    episode = start["key"].removeprefix("event:")
    later = event(
        EventType.PERSON_DOWN,
        **home,
        phase=Phase.UPDATE,
        episode_id=episode,
        attributes={"down_s": 60.0, "long_lie": True},
    )
    end = event(
        EventType.PERSON_DOWN,
        **home,
        phase=Phase.END,
        episode_id=episode,
        attributes={"down_s": 75.0, "end_reason": "up"},
    )
    add(redis_client, names, start)
    drain(consumer)
    (down,) = alerts(village)
    assert (down.rule_id, down.severity, down.title) == (
        "elder_person_down",
        Severity.HIGH,
        "有人倒地超过 20 秒：王秀英",
    )
    add(redis_client, names, later, end)
    drain(consumer)
    by_rule = {a.rule_id: a for a in alerts(village)}
    assert set(by_rule) == {"elder_person_down", "elder_long_lie"}
    assert by_rule["elder_long_lie"].severity == Severity.CRITICAL
    assert all(a.condition_ended_at is not None for a in by_rule.values())
    critical = [
        j for j in notified(redis_client, names) if j.alert_id == by_rule["elder_long_lie"].id
    ]
    assert {j.role for j in critical} == {"guardian", "grid_worker", "duty_officer"}
