"""Records the API tests start from: users of every role in the example village, their tokens,
alerts raised the way the rules engine raises them (with the live-feed change published) and
moved along by people, and the last change on the feed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from alert_api.passwords import hash_password
from alert_api.sessions import BEARER, COOKIE, issue
from records.alerts import Alert, AlertEvent, AlertPerson, AlertTransition
from records.base import utcnow
from records.feed import AlertChange, Change
from records.lifecycle import mark_arrival, transition
from records.outbox import OutputStreams, add_output, publish_pending
from records.people import Area, Guardian, Person, Staff
from records.types import AlertStatus, Severity
from records.users import User, UserRole

PASSWORD = "correct horse battery"
SITE = "tongren-bijiang-01"
GRID_1 = "520603100201-01"  # 王秀英 (P001) lives here
GRID_2 = "520603100201-02"  # 李小明 (P002) and 李德富 (P003)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


@cache
def password_hash() -> str:
    """PASSWORD hashed once per test run (argon2 is slow on purpose)."""
    return hash_password(PASSWORD)


@dataclass(frozen=True)
class Users:
    """One user per role of the example village, by the name tests use."""

    admin: int
    county_officer: int
    town_officer: int
    grid1_worker: int
    grid2_worker: int
    wang_li: int
    """Guardian of P001 (王秀英, grid 1) only."""
    li_hong: int
    """Guardian of P002 and P003 (grid 2) only."""
    supervisor: int
    """The town's supervisor (督办), who urges cases on."""


def add_user(
    sessions: sessionmaker[Session],
    login: str,
    role: UserRole,
    *,
    staff_code: str | None = None,
    guardian_phone: str | None = None,
) -> int:
    """A user with PASSWORD, linked to a staff or guardian record."""
    with sessions.begin() as session:
        staff = (
            session.scalar(select(Staff).where(Staff.code == staff_code)) if staff_code else None
        )
        guardian = (
            session.scalar(select(Guardian).where(Guardian.phone == guardian_phone))
            if guardian_phone
            else None
        )
        user = User(
            login=login,
            display_name=login,
            password_hash=password_hash(),
            role=role,
            staff_id=staff.id if staff else None,
            guardian_id=guardian.id if guardian else None,
        )
        session.add(user)
        session.flush()
        return user.id


def village_users(sessions: sessionmaker[Session]) -> Users:
    """Users of every role in the imported example village."""
    return Users(
        admin=add_user(sessions, "admin", UserRole.ADMIN),
        county_officer=add_user(
            sessions, "county", UserRole.DUTY_OFFICER, staff_code="duty-county-01"
        ),
        town_officer=add_user(sessions, "town", UserRole.DUTY_OFFICER, staff_code="duty-town-01"),
        grid1_worker=add_user(sessions, "gw1", UserRole.GRID_WORKER, staff_code="gw-001"),
        grid2_worker=add_user(sessions, "gw2", UserRole.GRID_WORKER, staff_code="gw-002"),
        wang_li=add_user(sessions, "13900000001", UserRole.GUARDIAN, guardian_phone="13900000001"),
        li_hong=add_user(sessions, "13900000003", UserRole.GUARDIAN, guardian_phone="13900000003"),
        supervisor=add_user(sessions, "sup", UserRole.SUPERVISOR, staff_code="sup-town-01"),
    )


def bearer(context: AppContext, user_id: int) -> dict[str, str]:
    """Authorization header of a fresh bearer token for the user."""
    with context.writes.begin() as session:
        user = session.get(User, user_id)
        assert user is not None
        issued = issue(session, user, BEARER, 3600, "test")
    return {"Authorization": f"Bearer {issued.token}"}


def cookie_session(context: AppContext, user_id: int) -> tuple[str, str]:
    """A web-page session for the user: (cookie value, CSRF token)."""
    with context.writes.begin() as session:
        user = session.get(User, user_id)
        assert user is not None
        issued = issue(session, user, COOKIE, 3600, "test")
    return issued.token, issued.csrf_token


def raise_alert(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    streams: OutputStreams,
    *,
    person_codes: tuple[str, ...] = ("P001",),
    grid: str = GRID_1,
    severity: Severity = Severity.CRITICAL,
    type_: str = "fall",
    title: str = "老人跌倒：王秀英",
    snapshot_dir: Path | None = None,
    created_at: datetime | None = None,
    details: dict[str, Any] | None = None,
    source: tuple[str, str, str | None] = ("event", "cam-home-wang", None),
) -> int:
    """An alert as the rules engine raises it; its `created` change is published to the feed.
    With `snapshot_dir`, a snapshot file is stored and named by the alert and its event.
    `source`: its kind, id and zone."""
    now = created_at or utcnow()
    with sessions.begin() as session:
        area_id = session.scalar(select(Area.id).where(Area.code == grid))
        persons = list(session.scalars(select(Person.id).where(Person.code.in_(person_codes))))
        alert = Alert(
            rule_id="elder_fall",
            type=type_,
            title=title,
            severity=severity,
            site=SITE,
            source_kind=source[0],
            source=source[1],
            zone=source[2],
            group_key=f"test|{now.timestamp()}|{title}",
            area_id=area_id,
            first_seen_at=now,
            last_seen_at=now,
            created_at=now,
            updated_at=now,
            details=details if details is not None else {"confidence": 0.9},
        )
        session.add(alert)
        session.flush()
        event_id = f"evt-{alert.id}-{int(now.timestamp() * 1e6)}"
        if snapshot_dir is not None:
            relative = f"{SITE}/{now:%Y%m%d}/{event_id}.jpg"
            (snapshot_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (snapshot_dir / relative).write_bytes(JPEG)
            alert.snapshot_path = relative
        alert.persons = [AlertPerson(alert_id=alert.id, person_id=p) for p in persons]
        session.add(
            AlertEvent(
                alert_id=alert.id,
                rule_id="elder_fall",
                event_key=f"event:{event_id}",
                episode_key=f"episode:{event_id}",
                event_id=event_id,
                kind=source[0],
                type=type_,
                phase="start",
                observed_at=now,
                confidence=0.9,
                snapshot_path=alert.snapshot_path,
                entry_id="1-0",
            )
        )
        session.add(
            AlertTransition(
                alert_id=alert.id,
                from_status=None,
                to_status=AlertStatus.NEW,
                version=1,
                actor="rules",
                at=now,
                note="raised by rule elder_fall",
            )
        )
        session.flush()
        add_output(session, AlertChange.of(alert, Change.CREATED, now))
        alert_id = alert.id
    publish_pending(sessions, client, streams)
    return alert_id


def update_alert(
    sessions: sessionmaker[Session], client: redis.Redis, streams: OutputStreams, alert_id: int
) -> None:
    """Another event of the alert's episode, grouped into it as the rules engine groups one:
    its count and last-seen time go up and its `updated` change is published to the feed."""
    now = utcnow()
    with sessions.begin() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        event_id = f"evt-{alert_id}-update-{int(now.timestamp() * 1e6)}"
        session.add(
            AlertEvent(
                alert_id=alert_id,
                rule_id=alert.rule_id,
                event_key=f"event:{event_id}",
                episode_key=f"episode:{alert.events[0].event_id}",
                event_id=event_id,
                kind=alert.source_kind,
                type=alert.type,
                phase="update",
                observed_at=now,
                confidence=0.8,
                entry_id=f"{alert.event_count + 1}-0",
            )
        )
        alert.event_count += 1
        alert.last_seen_at = alert.updated_at = now
        session.flush()
        add_output(session, AlertChange.of(alert, Change.UPDATED, now))
    publish_pending(sessions, client, streams)


def raise_and_move(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    streams: OutputStreams,
    start: datetime,
    steps: Sequence[tuple[AlertStatus | None, float]],
    **alert: Any,
) -> int:
    """An alert raised at `start` (`alert`: as for raise_alert), then moved through `steps`
    in order: (status, seconds after `start`), a None status being the grid worker's arrival
    on site."""
    alert_id = raise_alert(sessions, client, streams, created_at=start, **alert)
    version = 1
    for to, after_s in steps:
        now = start + timedelta(seconds=after_s)
        if to is None:
            mark_arrival(
                sessions, client, alert_id, actor="杨秀兰", actor_id=None, streams=streams, now=now
            )
            continue
        with sessions.begin() as session:
            transition(
                session, alert_id, to, actor="t", expected_version=version, note="n", now=now
            )
        version += 1
    return alert_id


def last_change(client: redis.Redis, streams: OutputStreams) -> dict[bytes, bytes]:
    """The fields of the newest entry on the live feed."""
    fields: dict[bytes, bytes] = client.xrevrange(streams.alerts, count=1)[0][1]
    return fields


T0 = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
