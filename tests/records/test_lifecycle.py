"""Alert state changes: allowed paths, notes, the audit trail, conflicts, and what follows a
change (the escalation stops, the lifecycle timer is made due, the live feed hears of it),
also when Redis is away at the commit and back for the sweep."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import Alert, AlertTransition, OutboxEntry
from records.feed import AlertChange, Change
from records.lifecycle import (
    AlertNotFound,
    InvalidTransition,
    NoteRequired,
    VersionConflict,
    acknowledge,
    change_status,
    mark_arrival,
    respond_as_family,
    transition,
    urge,
)
from records.outbox import publish_pending
from records.queries import AlertFilter, get_alert, list_alerts
from records.timers import escalation_timers, lifecycle_timers
from records.types import AlertStatus, Severity
from shouwang.partitions import Partitioner
from shouwang.settings import PartitionSettings
from tests.records.redis_fixtures import RedisNames

S = AlertStatus
T0 = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


def new_alert(sessions: sessionmaker[Session], **values: object) -> int:
    """An alert as the rules engine raises it."""
    fields: dict[str, object] = {
        "rule_id": "elder_fall",
        "type": "fall",
        "title": "老人跌倒：王秀英",
        "severity": Severity.CRITICAL,
        "site": "s1",
        "source_kind": "event",
        "source": "cam-1",
        "group_key": "elder_fall|persons=1",
        "first_seen_at": T0,
        "last_seen_at": T0,
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(values)
    with sessions.begin() as session:
        alert = Alert(**fields)
        session.add(alert)
        session.flush()
        return alert.id


def test_full_path_is_recorded_with_actor_time_and_note(sessions: sessionmaker[Session]) -> None:
    alert_id = new_alert(sessions)
    steps = [
        (S.ACKNOWLEDGED, "值班员张三", ""),
        (S.DISPATCHED, "值班员张三", "已通知网格员杨秀兰"),
        (S.RESOLVED, "网格员杨秀兰", "老人已扶起，无外伤"),
        (S.FOLLOWED_UP, "网格员杨秀兰", "次日回访"),
        (S.ARCHIVED, "值班员张三", ""),
    ]
    for version, (to, actor, note) in enumerate(steps, start=1):
        with sessions.begin() as session:
            at = T0 + timedelta(minutes=version)
            transition(
                session,
                alert_id,
                to,
                actor=actor,
                expected_version=version,
                note=note,
                actor_id=7,
                now=at,
            )
    with sessions() as session:
        alert = get_alert(session, alert_id)
        assert alert is not None
        assert (alert.status, alert.version) == (S.ARCHIVED, 6)
        assert alert.acknowledged_at == T0 + timedelta(minutes=1)
        assert alert.resolved_at == alert.closed_at == T0 + timedelta(minutes=3)
        audit = [
            (t.from_status, t.to_status, t.actor, t.note, t.version) for t in alert.transitions
        ]
        assert audit == [
            (S.NEW, S.ACKNOWLEDGED, "值班员张三", "", 2),
            (S.ACKNOWLEDGED, S.DISPATCHED, "值班员张三", "已通知网格员杨秀兰", 3),
            (S.DISPATCHED, S.RESOLVED, "网格员杨秀兰", "老人已扶起，无外伤", 4),
            (S.RESOLVED, S.FOLLOWED_UP, "网格员杨秀兰", "次日回访", 5),
            (S.FOLLOWED_UP, S.ARCHIVED, "值班员张三", "", 6),
        ]
        assert {t.actor_id for t in alert.transitions} == {7}


def test_refused_transitions_change_nothing(sessions: sessionmaker[Session]) -> None:
    alert_id = new_alert(sessions)
    with sessions() as session, pytest.raises(InvalidTransition, match="can become"):
        transition(session, alert_id, S.RESOLVED, actor="a", expected_version=1, note="x")
    with sessions() as session, pytest.raises(NoteRequired):
        transition(session, alert_id, S.FALSE_ALARM, actor="a", expected_version=1, note="  ")
    with sessions() as session, pytest.raises(AlertNotFound):
        transition(session, alert_id + 1, S.ACKNOWLEDGED, actor="a", expected_version=1)
    with sessions.begin() as session:
        transition(session, alert_id, S.FALSE_ALARM, actor="a", expected_version=1, note="猫")
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status is S.FALSE_ALARM and alert.closed_at
        assert alert.resolved_at is None


def test_second_officer_acting_on_an_old_version_gets_a_conflict(
    sessions: sessionmaker[Session], redis_client: redis.Redis, names: RedisNames
) -> None:
    alert_id = new_alert(sessions)
    seen_by_both = 1
    acknowledge(
        sessions,
        redis_client,
        alert_id,
        actor="甲",
        expected_version=seen_by_both,
        streams=names.streams,
        rules_prefix=names.prefix,
    )
    with pytest.raises(VersionConflict) as conflict:
        change_status(
            sessions,
            redis_client,
            alert_id,
            S.FALSE_ALARM,
            actor="乙",
            expected_version=seen_by_both,
            note="误报",
            streams=names.streams,
            rules_prefix=names.prefix,
        )
    assert (conflict.value.current, conflict.value.status) == (2, S.ACKNOWLEDGED)
    with sessions() as session:
        assert len(session.query(AlertTransition).filter_by(alert_id=alert_id).all()) == 1


def test_simultaneous_acknowledgements_exactly_one_wins(
    sessions: sessionmaker[Session], redis_client: redis.Redis, names: RedisNames
) -> None:
    alert_id = new_alert(sessions)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def officer(name: str) -> None:
        barrier.wait()
        try:
            acknowledge(
                sessions,
                redis_client,
                alert_id,
                actor=name,
                expected_version=1,
                streams=names.streams,
                rules_prefix=names.prefix,
            )
            outcomes.append("ok")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=officer, args=(f"o{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"]
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.version == 2
        assert session.query(AlertTransition).filter_by(alert_id=alert_id).count() == 1


def test_acknowledging_stops_the_escalation_and_feeds_the_live_stream(
    sessions: sessionmaker[Session], redis_client: redis.Redis, names: RedisNames
) -> None:
    alert_id = new_alert(sessions)
    timers = escalation_timers(redis_client, names.prefix)
    timers.schedule(str(alert_id), 10**13)
    alert = acknowledge(
        sessions,
        redis_client,
        alert_id,
        actor="值班员",
        expected_version=1,
        note="收到",
        streams=names.streams,
        rules_prefix=names.prefix,
        now=T0,
    )
    assert alert.status is S.ACKNOWLEDGED
    assert timers.due_ms(str(alert_id)) is None
    ((_entry_id, fields),) = redis_client.xrange(names.streams.alerts)
    change = AlertChange.from_fields(fields)
    assert (change.alert_id, change.change, change.status, change.version) == (
        alert_id,
        Change.TRANSITION,
        "acknowledged",
        2,
    )
    assert change.seq is not None and change.alert["acknowledged_at"] == T0.isoformat()


def unreachable() -> redis.Redis:
    """A client of a Redis that is not there (nothing listens on port 1), failing at once."""
    return redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))


def outbox_channels(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(OutboxEntry.channel).order_by(OutboxEntry.id)))


def test_redis_away_at_the_commit_the_sweep_does_the_timers_in_the_alerts_partition(
    sessions: sessionmaker[Session], redis_client: redis.Redis, names: RedisNames
) -> None:
    alert_id = new_alert(sessions, site="tongren-bijiang-01")
    partition = f"{names.prefix}:{{bijiang}}"
    prefixes = (partition, names.prefix)  # the alert's partition's, and the plain one
    ladders = [escalation_timers(redis_client, prefix) for prefix in prefixes]
    for ladder in ladders:
        ladder.schedule(str(alert_id), 10**13)
    try:
        change_status(  # committed, logged as not announced, not raised
            sessions,
            unreachable(),
            alert_id,
            S.ACKNOWLEDGED,
            actor="值班员",
            expected_version=1,
            streams=names.streams,
            rules_prefix=names.prefix,
            partitioner=Partitioner(PartitionSettings(enabled=True)),
            now=T0,
        )
        assert outbox_channels(sessions) == ["alerts", "timers", "timers"]
        assert publish_pending(sessions, redis_client, names.streams) == 3  # the sweep
        assert [ladder.due_ms(str(alert_id)) for ladder in ladders] == [None, 10**13]
        due = [lifecycle_timers(redis_client, p).due_ms(str(alert_id)) for p in prefixes]
        assert due == [int(T0.timestamp() * 1000), None]
        ((_, fields),) = redis_client.xrange(names.streams.alerts)
        assert AlertChange.from_fields(fields).status == "acknowledged"
        assert outbox_channels(sessions) == []
    finally:
        redis_client.delete(f"{partition}:escalations", f"{partition}:lifecycle")


def test_actions_that_keep_the_status_stand_when_redis_is_away_and_the_sweep_tells_them(
    sessions: sessionmaker[Session], redis_client: redis.Redis, names: RedisNames
) -> None:
    alert_id = new_alert(sessions)
    away = unreachable()
    common = {"streams": names.streams, "now": T0}
    assert respond_as_family(
        sessions,
        away,
        alert_id,
        actor="王丽",
        actor_id=7,
        note="",
        rules_prefix=names.prefix,
        **common,
    )
    assert mark_arrival(sessions, away, alert_id, actor="杨秀兰", actor_id=3, **common)
    urge(
        sessions,
        away,
        alert_id,
        actor="督办员",
        actor_id=4,
        note="请尽快",
        rules_prefix=names.prefix,
        **common,
    )
    assert outbox_channels(sessions) == ["alerts", "timers", "alerts", "alerts", "timers"]
    assert publish_pending(sessions, redis_client, names.streams) == 5
    due = lifecycle_timers(redis_client, names.prefix).due_ms(str(alert_id))
    assert due == int(T0.timestamp() * 1000)
    told = [AlertChange.from_fields(f).change for _, f in redis_client.xrange(names.streams.alerts)]
    assert told == [Change.FAMILY_RESPONSE, Change.ARRIVED, Change.URGED]


def test_listing_filters_and_scopes(sessions: sessionmaker[Session]) -> None:
    first = new_alert(sessions, area_id=None, site="a")
    second = new_alert(sessions, severity=Severity.LOW, type="smoke", site="b")
    with sessions() as session:
        assert [a.id for a in list_alerts(session, AlertFilter())] == [second, first]
        assert [a.id for a in list_alerts(session, AlertFilter(types=["smoke"]))] == [second]
        assert [a.id for a in list_alerts(session, AlertFilter(before_id=second))] == [first]
        assert list_alerts(session, AlertFilter(area_ids=[12345])) == []
        critical = AlertFilter(severities=[Severity.CRITICAL], statuses=[S.NEW], site="a")
        assert [a.id for a in list_alerts(session, critical)] == [first]
