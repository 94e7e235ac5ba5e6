"""A batch is decided in one transaction with a few statements for all its entries; it must
decide exactly what its entries decide one at a time, including entries of the same batch
that depend on each other (a snapshot before its event, an end after its start, repeats)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import (
    Alert,
    AlertEvent,
    AlertGroup,
    AlertPerson,
    AlertTransition,
    EventSnapshot,
    OutboxEntry,
)
from records.feed import AlertChange, NotificationJob
from records.outbox import OutputStreams
from rules.consumer import RulesConsumer
from shouwang.contracts import EventType, Phase, SensorType
from tests.records.redis_fixtures import RedisNames
from tests.rules.builders import NOON, event, sensor, snapshot
from tests.rules.conftest import add, drain

pytestmark = pytest.mark.integration


def entries() -> list[dict[str, str]]:
    """Falls at two homes (one with its snapshot first, one repeated, one ended), a child by
    the water, SOS presses, a snapshot after its event, and a camera covering nobody."""
    wang = [
        event(EventType.FALL, camera="cam-home-wang", at=NOON + timedelta(seconds=s))
        for s in (0, 5, 9)
    ]
    with_snapshot = event(
        EventType.FALL, camera="cam-home-wang", at=NOON + timedelta(seconds=12), snapshot=True
    )
    later_snapshot = event(
        EventType.FALL,
        camera="cam-home-wang",
        at=NOON + timedelta(seconds=14),
        snapshot=True,
        confidence=0.99,
    )
    li = event(EventType.FALL, camera="cam-gate-li", at=NOON + timedelta(seconds=3))
    li_episode = li["key"].removeprefix("event:")
    li_end = event(
        EventType.FALL,
        camera="cam-gate-li",
        at=NOON + timedelta(seconds=30),
        phase=Phase.END,
        episode_id=li_episode,
    )
    return [
        wang[0],
        snapshot(with_snapshot),
        li,
        wang[1],
        with_snapshot,
        wang[1],  # delivered twice
        sensor(SensorType.SOS_BUTTON, True, device="sos-wang", at=NOON + timedelta(seconds=4)),
        event(
            EventType.UNATTENDED_CHILD,
            camera="cam-gate-li",
            at=NOON + timedelta(seconds=6),
            zone="pond",
            tags=("water",),
        ),
        li_end,
        later_snapshot,
        wang[2],
        snapshot(later_snapshot),
        li_end,
        event(EventType.FALL, camera="cam-square", at=NOON + timedelta(seconds=7)),
        sensor(SensorType.SOS_BUTTON, True, device="sos-wang", at=NOON + timedelta(seconds=8)),
    ]


def decided(
    sessions: sessionmaker[Session], client: redis.Redis, streams: OutputStreams
) -> dict[str, Any]:
    """What the entries decided, with alerts named by their order (ids differ between runs)."""
    with sessions() as session:
        found = list(session.scalars(select(Alert).order_by(Alert.id)))
        order = {alert.id: n for n, alert in enumerate(found)}
        alerts = [
            (
                a.rule_id,
                a.source,
                a.title,
                a.event_count,
                a.first_seen_at,
                a.last_seen_at,
                a.condition_ended_at,
                a.snapshot_path,
                a.snapshot_confidence,
                a.person_ids,
                a.details,
            )
            for a in found
        ]
        events = [
            (order[e.alert_id], e.rule_id, e.event_key, e.phase, e.snapshot_path)
            for e in session.scalars(select(AlertEvent).order_by(AlertEvent.id))
        ]
    changes = [AlertChange.from_fields(f) for _, f in client.xrange(streams.alerts)]
    jobs = [NotificationJob.from_fields(f) for _, f in client.xrange(streams.notifications)]
    return {
        "alerts": alerts,
        "events": events,
        "changes": [
            (order[c.alert_id], c.change, c.alert["event_count"], c.alert["snapshot_path"])
            for c in changes
        ],
        "jobs": sorted((order[j.alert_id], j.step, j.recipient_type, j.recipient_id) for j in jobs),
    }


def forget_alerts(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for table in (
            AlertEvent,
            AlertPerson,
            AlertTransition,
            AlertGroup,
            OutboxEntry,
            EventSnapshot,
            Alert,
        ):
            session.execute(delete(table))


def test_a_batch_decides_as_its_entries_one_at_a_time(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
) -> None:
    sent = entries()
    add(redis_client, names, *sent)
    batched = consumer_for(batch_size=100)
    assert batched.poll(block_ms=0) == len(sent), "all in one batch"
    drain(batched)
    in_one_batch = decided(village, redis_client, names.streams)
    assert [a[:4] for a in in_one_batch["alerts"]] == [
        ("elder_fall", "cam-home-wang", "老人跌倒：王秀英", 5),
        ("elder_fall", "cam-gate-li", "老人跌倒：李德富", 1),
        ("sos_button", "sos-wang", "SOS 紧急求助 王秀英", 2),
        ("child_unattended_hazard", "cam-gate-li", "儿童独自在危险区域（pond）", 1),
    ]

    forget_alerts(village)
    # The same episodes are decided again: forget their remembered ends too.
    redis_client.delete(*redis_client.keys(f"{names.prefix}:ends:*"))
    one_by_one_names = {
        "stream": f"{names.prefix}:events-2",
        "alerts_stream": f"{names.prefix}:alerts-2",
        "notifications_stream": f"{names.prefix}:notifications-2",
        "consumer": "w2",
    }
    streams = OutputStreams(
        alerts=one_by_one_names["alerts_stream"],
        notifications=one_by_one_names["notifications_stream"],
    )
    try:
        for fields in sent:
            redis_client.xadd(one_by_one_names["stream"], fields)
        single = consumer_for(batch_size=1, **one_by_one_names)
        drain(single)
        assert single.counts["processed"] == len(sent)
        assert decided(village, redis_client, streams) == in_one_batch
    finally:
        redis_client.delete(
            *(one_by_one_names[k] for k in ("stream", "alerts_stream", "notifications_stream"))
        )
