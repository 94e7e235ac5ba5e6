"""Quiet hours hold back everything but critical notifications until they end."""

from collections.abc import Callable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from notify.quiet import quiet_until
from notify.worker import Notifier
from records.alerts import Alert
from records.notifications import (
    DeliveryOutcome,
    clear_quiet_hours,
    quiet_hours,
    set_quiet_hours,
)
from records.types import AlertStatus, Severity
from tests.notify.builders import Clock, job, publish
from tests.notify.conftest import Names
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge
from tests.notify.test_delivery import deliveries
from tests.records.test_lifecycle import new_alert

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_quiet_hours_hold_a_warning_until_morning_but_not_a_critical_alert(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
) -> None:
    with sessions.begin() as session:
        set_quiet_hours(session, "guardian", 1, time(22, 0), time(7, 0))
    clock.now = local(28, 23, 30).astimezone(UTC)
    warning_hook, critical_hook = (
        edge.url("/hook/warning", "json"),
        edge.url("/hook/critical", "json"),
    )
    notifier = notifier_for()
    publish(
        redis_client,
        names.stream,
        job(warning_hook, severity="high"),
        job(critical_hook, severity="critical"),
        job(edge.url("/hook/other-person", "json"), severity="low", recipient_id=2),
    )
    settle(notifier)
    assert len(edge.to("/hook/critical")) == 1
    assert len(edge.to("/hook/other-person")) == 1  # only guardian 1 asked for quiet
    assert edge.to("/hook/warning") == []
    held = {d.target: d for d in deliveries(sessions)}[warning_hook]
    assert (held.outcome, held.attempts) == (DeliveryOutcome.HELD, 0)
    assert held.next_attempt_at == local(29, 7, 0)
    assert notifier.metrics.held._value.get() == 1

    clock.now = local(29, 6, 59).astimezone(UTC)
    settle(notifier)
    assert edge.to("/hook/warning") == []
    clock.now = local(29, 7, 0).astimezone(UTC)
    settle(notifier)
    assert len(edge.to("/hook/warning")) == 1
    assert {d.outcome for d in deliveries(sessions)} == {DeliveryOutcome.SENT}


def test_a_held_delivery_is_withdrawn_when_its_alert_was_closed_during_the_quiet_hours(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
) -> None:
    with sessions.begin() as session:
        set_quiet_hours(session, "guardian", 1, time(22, 0), time(7, 0))
    dealt_with = new_alert(sessions, severity=Severity.HIGH)
    still_open = new_alert(sessions, severity=Severity.HIGH, group_key="other")
    clock.now = local(28, 23, 0).astimezone(UTC)
    notifier = notifier_for()
    publish(
        redis_client,
        names.stream,
        job(edge.url("/hook/dealt-with", "json"), severity="high", alert_id=dealt_with),
        job(edge.url("/hook/still-open", "json"), severity="high", alert_id=still_open),
    )
    settle(notifier)
    assert {d.outcome for d in deliveries(sessions)} == {DeliveryOutcome.HELD}
    with sessions.begin() as session:  # the grid worker went round at 23:30
        session.get_one(Alert, dealt_with).status = AlertStatus.RESOLVED

    clock.now = local(29, 7, 0).astimezone(UTC)
    settle(notifier)
    assert edge.to("/hook/dealt-with") == []
    assert len(edge.to("/hook/still-open")) == 1
    rows = {d.target.split("/hook/")[1]: d for d in deliveries(sessions)}
    assert rows["dealt-with"].outcome == DeliveryOutcome.WITHDRAWN
    assert rows["dealt-with"].last_error == "alert resolved"
    assert rows["dealt-with"].next_attempt_at is None
    assert rows["still-open"].outcome == DeliveryOutcome.SENT
    assert notifier.metrics.withdrawn._value.get() == 1


def test_a_retry_falling_into_quiet_hours_waits_for_their_end(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
) -> None:
    with sessions.begin() as session:
        set_quiet_hours(session, "guardian", 1, time(12, 0), time(13, 30))  # a nap
    clock.now = local(28, 11, 59).astimezone(UTC)
    hook = edge.url("/hook/nap", "json")
    edge.script("/hook/nap", 500)
    notifier = notifier_for()
    publish(redis_client, names.stream, job(hook, severity="medium"))
    settle(notifier)
    clock.advance(60)  # the retry (due 11:59:05) is picked up at 12:00, inside the nap
    settle(notifier)
    [row] = deliveries(sessions)
    assert (row.outcome, row.attempts, row.next_attempt_at) == (
        DeliveryOutcome.HELD,
        1,
        local(28, 13, 30),
    )
    clock.now = local(28, 13, 30).astimezone(UTC)
    settle(notifier)
    assert [r.status for r in edge.to("/hook/nap")] == [500, 201]


def test_quiet_hours_are_kept_per_recipient(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        set_quiet_hours(session, "staff", 4, time(23, 0), time(6, 0))
        set_quiet_hours(session, "staff", 4, time(22, 0), time(6, 30))
        with pytest.raises(ValueError, match="start different"):
            set_quiet_hours(session, "staff", 5, time(1, 0), time(1, 0))
    with sessions.begin() as session:
        row = quiet_hours(session, "staff", 4)
        assert row is not None and (row.start_time, row.end_time) == (time(22), time(6, 30))
        assert quiet_hours(session, "guardian", 4) is None
        assert clear_quiet_hours(session, "staff", 4)
        assert not clear_quiet_hours(session, "staff", 4)


@pytest.mark.parametrize(
    ("now", "start", "end", "until"),
    [
        (local(28, 23, 0), time(22), time(7), local(29, 7)),  # overnight, before midnight
        (local(29, 2, 0), time(22), time(7), local(29, 7)),  # overnight, after midnight
        (local(28, 22, 0), time(22), time(7), local(29, 7)),  # start is inside
        (local(28, 7, 0), time(22), time(7), None),  # end is outside
        (local(28, 12, 0), time(22), time(7), None),
        (local(28, 12, 30), time(12), time(14), local(28, 14)),  # same-day window
        (local(28, 14, 0), time(12), time(14), None),
        (local(28, 11, 59), time(12), time(14), None),
    ],
)
def test_quiet_until(now: datetime, start: time, end: time, until: datetime | None) -> None:
    assert quiet_until(now.astimezone(UTC), start, end, SHANGHAI, Severity.HIGH) == until
    assert quiet_until(now.astimezone(UTC), start, end, SHANGHAI, Severity.CRITICAL) is None
