"""The alert records one transaction reads and changes, held in memory and written in bulk.

A batch of entries is decided in one transaction. Rather than a statement (or an ORM flush)
per row, the book reads what the batch needs in a few statements — the group rows and alerts
it may change (locked), which entries were recorded before — keeps the alerts it changes in
memory, and on `flush` writes each table's new rows and changed alerts in one statement,
queues the outputs (alert changes, notification jobs) in the outbox and sets the alerts'
timers. The caller flushes before it commits.

Lock order, for every worker: group rows, then snapshot rows, then alerts (each set in key
order), so concurrent batches wait for each other rather than deadlock.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from records.alerts import (
    Alert,
    AlertEvent,
    AlertGroup,
    AlertPerson,
    AlertTransition,
    EventSnapshot,
)
from records.feed import AlertChange, Change, NotificationJob
from records.outbox import add_outputs
from records.timers import TimerSet
from records.types import OPEN_STATUSES, AlertStatus, Severity
from rules.notifications import Notice, jobs
from rules.recipients import Directory
from rules.signals import Signal, SnapshotNote
from rules.sql import in_param, table

ALERTS = table(Alert)
EVENTS = table(AlertEvent)
GROUPS = table(AlertGroup)
PERSONS = table(AlertPerson)
TRANSITIONS = table(AlertTransition)
SNAPSHOTS = table(EventSnapshot)


@dataclass(slots=True)
class AlertState:
    """An alert as the engine holds it while deciding: the columns it reads or writes, and
    the persons the alert is about (ascending ids)."""

    id: int
    rule_id: str
    type: str
    title: str
    severity: Severity
    status: AlertStatus
    version: int
    site: str
    source_kind: str
    source: str
    zone: str | None
    group_key: str
    household_id: int | None
    area_id: int | None
    first_seen_at: datetime
    last_seen_at: datetime
    event_count: int
    condition_ended_at: datetime | None
    snapshot_path: str | None
    snapshot_event_id: str | None
    snapshot_confidence: float | None
    clip_path: str | None
    escalation_step: int
    escalated_at: datetime | None
    reopened_at: datetime | None
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    family_response_at: datetime | None
    family_response_by: str | None
    notices_through: int
    arrived_at: datetime | None
    arrived_by: str | None
    arrival_missed_at: datetime | None
    dispatched_at: datetime | None
    due_at: datetime | None
    overdue_at: datetime | None
    reminders: int
    urged_at: datetime | None
    urged_by: str | None
    person_ids: list[int]


STATE_COLUMNS = [ALERTS.c[f.name] for f in fields(AlertState) if f.name != "person_ids"]
ENGINE_COLUMNS = (
    "event_count",
    "first_seen_at",
    "last_seen_at",
    "details",
    "condition_ended_at",
    "snapshot_path",
    "snapshot_event_id",
    "snapshot_confidence",
    "clip_path",
    "escalation_step",
    "escalated_at",
    "notices_through",
    "arrival_missed_at",
    "due_at",
    "overdue_at",
    "reminders",
    "updated_at",
)
"""The columns the engine changes on existing alerts (people's transitions change the others)."""

INSERT_ALERT = insert(ALERTS).returning(ALERTS.c.id)
INSERT_PERSONS = insert(PERSONS)
INSERT_TRANSITIONS = insert(TRANSITIONS)
INSERT_EVENTS = insert(EVENTS)
UPDATE_ALERT = update(ALERTS).where(ALERTS.c.id == bindparam("alert_id"))
"""Executed with the alert id and `ENGINE_COLUMNS` (the parameters name the columns set)."""
REOPEN_ALERT = (
    update(ALERTS)
    .where(ALERTS.c.id == bindparam("alert_id"), ALERTS.c.version == bindparam("read_version"))
    .values(
        status=AlertStatus.NEW,
        version=ALERTS.c.version + 1,
        severity=bindparam("new_severity"),
        rule_id=bindparam("new_rule_id"),
        reopened_at=bindparam("reopened_at"),
        acknowledged_at=None,
        resolved_at=None,
        arrived_at=None,
        arrived_by=None,
    )
)
"""Executed with the alert id, the version the engine read, the new severity and rule, and
the time."""
UPDATE_GROUP = update(GROUPS).where(GROUPS.c.group_key == bindparam("key"))
SELECT_PRIOR = (
    select(EVENTS.c.event_key, EVENTS.c.rule_id, EVENTS.c.episode_key, EVENTS.c.alert_id)
    .where(
        in_param(EVENTS.c.event_key, "event_keys") | in_param(EVENTS.c.episode_key, "episode_keys")
    )
    .order_by(EVENTS.c.id)
)
SELECT_SNAPSHOTS = (
    select(SNAPSHOTS.c.event_id, SNAPSHOTS.c.path)
    .where(in_param(SNAPSHOTS.c.event_id, "event_ids"))
    .order_by(SNAPSHOTS.c.event_id)
    .with_for_update()
)
SELECT_ALERTS = (
    select(*STATE_COLUMNS)
    .where(in_param(ALERTS.c.id, "ids"))
    .order_by(ALERTS.c.id)
    .with_for_update()
)
SELECT_PERSONS = (
    select(PERSONS.c.alert_id, PERSONS.c.person_id)
    .where(in_param(PERSONS.c.alert_id, "ids"))
    .order_by(PERSONS.c.person_id)
)
SELECT_CLIP_ALERTS = (
    select(EVENTS.c.alert_id)
    .where(
        (EVENTS.c.episode_key == bindparam("episode_key"))
        | (EVENTS.c.event_id == bindparam("event_id"))
    )
    .distinct()
    .order_by(EVENTS.c.alert_id)
)
SELECT_EPISODE_RULES = (
    select(EVENTS.c.alert_id, EVENTS.c.rule_id)
    .where(EVENTS.c.episode_key == bindparam("episode_key"))
    .distinct()
    .order_by(EVENTS.c.alert_id, EVENTS.c.rule_id)
)
SELECT_RULES_RECORDING = select(EVENTS.c.rule_id).where(
    EVENTS.c.event_key == bindparam("event_key")
)
SELECT_EPISODES_OF = select(EVENTS.c.alert_id, EVENTS.c.episode_key, EVENTS.c.phase).where(
    in_param(EVENTS.c.alert_id, "ids")
)
SELECT_OPEN_OF_SOURCE = (
    select(ALERTS.c.id)
    .where(
        ALERTS.c.site == bindparam("site"),
        ALERTS.c.source == bindparam("source"),
        ALERTS.c.source_kind == bindparam("source_kind"),
        ALERTS.c.type == bindparam("type"),
        in_param(ALERTS.c.rule_id, "rule_ids"),
        in_param(ALERTS.c.status, "statuses"),
        ALERTS.c.condition_ended_at.is_(None),
    )
    .order_by(ALERTS.c.id)
)
SET_EVENT_SNAPSHOT = (
    update(EVENTS)
    .where(EVENTS.c.event_id == bindparam("snapshot_of"))
    .values(snapshot_path=bindparam("path"))
    .returning(EVENTS.c.id, EVENTS.c.alert_id, EVENTS.c.confidence)
)


@dataclass(frozen=True)
class Upserts:
    """The statements that insert or lock rows by key, in a dialect's ON CONFLICT form."""

    lock_group: Insert
    create_snapshot: Insert
    store_snapshot: Insert

    @classmethod
    def of(cls, dialect: Any) -> "Upserts":
        """The statements for a dialect module (`sqlalchemy.dialects.postgresql`, `…sqlite`)."""
        group = dialect.insert(GROUPS)
        snapshot = dialect.insert(SNAPSHOTS)
        return cls(
            lock_group=group.on_conflict_do_update(
                index_elements=["group_key"], set_={"group_key": group.excluded.group_key}
            ).returning(GROUPS.c.group_key, GROUPS.c.alert_id),
            create_snapshot=snapshot.on_conflict_do_nothing(index_elements=["event_id"]),
            store_snapshot=snapshot.on_conflict_do_update(
                index_elements=["event_id"],
                set_={"path": snapshot.excluded.path, "bytes": snapshot.excluded.bytes},
            ),
        )


UPSERTS = {"postgresql": Upserts.of(postgresql), "sqlite": Upserts.of(sqlite)}


class AlertBook:
    """The alerts, groups and events one transaction works with, and its pending writes."""

    def __init__(self, session: Session, directory: Directory, now: datetime) -> None:
        self.session = session
        self.directory = directory
        self.now = now
        self._upserts = UPSERTS[session.get_bind().dialect.name]
        self._groups: dict[str, int | None] = {}
        self._recorded: set[tuple[str, str]] = set()
        self._episodes: dict[tuple[str, str], int] = {}
        self._snapshots: dict[str, str | None] = {}
        self._alerts: dict[int, AlertState] = {}
        self._changed: set[int] = set()
        self._new_rows: dict[Insert, list[dict[str, Any]]] = {
            INSERT_PERSONS: [],
            INSERT_TRANSITIONS: [],
            INSERT_EVENTS: [],
        }
        self._group_updates: dict[str, int] = {}
        self._reopened: list[dict[str, Any]] = []
        self._changes: list[AlertChange] = []
        self._notices: list[Notice] = []
        self._timers: dict[TimerSet, dict[str, int | None]] = {}

    # Reading (and locking).

    def lock_groups(self, keys: Iterable[str]) -> None:
        """Create or lock the rows of these group keys (one statement) and note the alert each
        points to."""
        wanted = sorted(set(keys) - self._groups.keys())
        if not wanted:
            return
        rows = self.session.execute(
            self._upserts.lock_group, [{"group_key": key, "alert_id": None} for key in wanted]
        )
        self._groups.update({key: alert_id for key, alert_id in rows})

    def group_alert(self, key: str) -> int | None:
        """The alert a locked group row points to."""
        return self._groups[key]

    def load_prior(self, event_keys: Collection[str], episode_keys: Collection[str]) -> None:
        """Note which (entry, rule) pairs were recorded before, and the latest alert of each
        (rule, episode), for these entries and episodes (one statement)."""
        if not event_keys and not episode_keys:
            return
        rows = self.session.execute(
            SELECT_PRIOR, {"event_keys": list(event_keys), "episode_keys": list(episode_keys)}
        )
        for event_key, rule_id, episode_key, alert_id in rows:
            self._recorded.add((event_key, rule_id))
            self._episodes[(rule_id, episode_key)] = alert_id

    def recorded(self, event_key: str, rule_id: str) -> bool:
        """Whether the entry was recorded for the rule (before, or in this transaction)."""
        return (event_key, rule_id) in self._recorded

    def episode_alert(self, rule_id: str, episode_key: str) -> int | None:
        """The alert that recorded the episode's latest entry for the rule, if any."""
        return self._episodes.get((rule_id, episode_key))

    def episode_alerts(self, episode_key: str) -> list[int]:
        """The alerts that recorded entries of the episode for any rule (loaded prior)."""
        return sorted({a for (_, episode), a in self._episodes.items() if episode == episode_key})

    def lock_snapshots(self, event_ids: Iterable[str]) -> None:
        """Create or lock the snapshot rows of these events and note their paths. The row is
        created (or waited for) before it is read, so an event and its snapshot decided at the
        same time by two workers are ordered by its lock: the later sees the earlier's write."""
        wanted = sorted(set(event_ids) - self._snapshots.keys())
        if not wanted:
            return
        self.session.execute(
            self._upserts.create_snapshot,
            [{"event_id": e, "received_at": self.now} for e in wanted],
        )
        rows = self.session.execute(SELECT_SNAPSHOTS, {"event_ids": wanted})
        self._snapshots.update({event_id: path for event_id, path in rows})

    def snapshot_path(self, event_id: str) -> str | None:
        """The stored snapshot of a locked event id, if it has arrived."""
        return self._snapshots.get(event_id)

    def alerts(self, ids: Iterable[int | None]) -> dict[int, AlertState]:
        """These alerts (those that exist), loading and locking the ones not held yet in one
        statement."""
        wanted = {i for i in ids if i is not None}
        missing = sorted(wanted - self._alerts.keys())
        if missing:
            self._load(missing)
        return {i: self._alerts[i] for i in wanted if i in self._alerts}

    def _load(self, ids: list[int]) -> None:
        """Load and lock alerts (those that exist) with their persons."""
        rows = self.session.execute(SELECT_ALERTS, {"ids": ids}).all()
        if not rows:
            return
        persons: dict[int, list[int]] = {row.id: [] for row in rows}
        for alert_id, person_id in self.session.execute(SELECT_PERSONS, {"ids": list(persons)}):
            persons[alert_id].append(person_id)
        for row in rows:
            self._alerts[row.id] = AlertState(**row._asdict(), person_ids=persons[row.id])

    def alert(self, alert_id: int | None) -> AlertState | None:
        """One alert (loaded and locked if not held yet), or None if there is none."""
        return self.alerts([alert_id]).get(alert_id) if alert_id is not None else None

    def clip_alerts(self, event_id: str) -> list[int]:
        """The alerts an evidence clip belongs to: those that recorded its event or an entry
        of the episode it starts (a clip is of an episode's start: its event id is the
        episode's id)."""
        self._write_rows()
        rows = self.session.execute(
            SELECT_CLIP_ALERTS, {"episode_key": f"episode:{event_id}", "event_id": event_id}
        )
        return list(rows.scalars())

    def episode_rules(self, episode_key: str) -> list[tuple[int, str]]:
        """The (alert, rule) pairs that recorded entries of an episode, by alert."""
        self._write_rows()
        rows = self.session.execute(SELECT_EPISODE_RULES, {"episode_key": episode_key})
        return [(alert_id, rule_id) for alert_id, rule_id in rows]

    def rules_recording(self, event_key: str) -> set[str]:
        """The rules an entry was recorded for."""
        self._write_rows()
        return set(self.session.execute(SELECT_RULES_RECORDING, {"event_key": event_key}).scalars())

    def open_alerts_of(self, signal: Signal, rule_ids: Collection[str]) -> list[AlertState]:
        """The open alerts of these rules about the signal's source and type whose condition has
        not ended (loaded and locked), oldest first."""
        rows = self.session.execute(
            SELECT_OPEN_OF_SOURCE,
            {
                "site": signal.site,
                "source": signal.source,
                "source_kind": signal.kind.value,
                "type": signal.type,
                "rule_ids": sorted(rule_ids),
                "statuses": sorted(status.value for status in OPEN_STATUSES),
            },
        )
        found = self.alerts(rows.scalars())
        return [
            alert
            for _, alert in sorted(found.items())
            if alert.status in OPEN_STATUSES and alert.condition_ended_at is None
        ]

    def episodes_of(self, alert_ids: Collection[int]) -> dict[int, set[tuple[str, str]]]:
        """The (episode, phase) pairs of each alert's recorded entries."""
        self._write_rows()
        found: dict[int, set[tuple[str, str]]] = {alert_id: set() for alert_id in alert_ids}
        rows = self.session.execute(SELECT_EPISODES_OF, {"ids": list(alert_ids)})
        for alert_id, episode_key, phase in rows:
            found[alert_id].add((episode_key, phase))
        return found

    # Writing.

    def store_snapshot(self, note: SnapshotNote) -> list[tuple[int, float | None]]:
        """Store a snapshot by event id and give its path to the entries of that event already
        recorded; returns their (alert, confidence), oldest entry first."""
        self._write_rows()
        self.session.execute(
            self._upserts.store_snapshot,
            {
                "event_id": note.event_id,
                "path": note.path,
                "bytes": note.bytes,
                "received_at": self.now,
            },
        )
        self._snapshots[note.event_id] = note.path
        rows = self.session.execute(
            SET_EVENT_SNAPSHOT, {"snapshot_of": note.event_id, "path": note.path}
        )
        return [
            (alert_id, confidence)
            for _, alert_id, confidence in sorted(rows, key=lambda row: row[0])
        ]

    def create(self, values: dict[str, Any], person_ids: list[int], note: str) -> AlertState:
        """Insert a new alert (status new, version 1), its persons and its first audit row."""
        state = dict(
            values,
            status=AlertStatus.NEW,
            version=1,
            clip_path=None,
            escalation_step=0,
            escalated_at=None,
            reopened_at=None,
            acknowledged_at=None,
            resolved_at=None,
            family_response_at=None,
            family_response_by=None,
            notices_through=0,
            arrived_at=None,
            arrived_by=None,
            arrival_missed_at=None,
            dispatched_at=None,
            due_at=None,
            overdue_at=None,
            reminders=0,
            urged_at=None,
            urged_by=None,
            created_at=self.now,
            updated_at=self.now,
        )
        alert_id = self.session.execute(INSERT_ALERT, state).scalar_one()
        alert = AlertState(id=alert_id, person_ids=sorted(person_ids), **state)
        self._alerts[alert_id] = alert
        self._new_rows[INSERT_PERSONS] += [
            {"alert_id": alert_id, "person_id": p} for p in person_ids
        ]
        self._new_rows[INSERT_TRANSITIONS].append(
            {
                "alert_id": alert_id,
                "from_status": None,
                "to_status": AlertStatus.NEW,
                "version": 1,
                "actor": "rules",
                "actor_id": None,
                "at": self.now,
                "note": note,
            }
        )
        return alert

    def reopen(self, alert: AlertState, rule_id: str, severity: Severity, note: str) -> None:
        """Reopen a closed alert rule `rule_id` found worse: status new at `severity`, a new
        version, the rule's escalation ladder and arrival deadline from now again, nobody on
        site, no due time or reminders, and the audit row (written on flush, if nobody changed
        it meanwhile)."""
        previous, version = alert.status, alert.version
        alert.status, alert.severity, alert.version = AlertStatus.NEW, severity, version + 1
        alert.rule_id, alert.reopened_at = rule_id, self.now
        alert.escalation_step, alert.escalated_at = 0, None
        alert.acknowledged_at = alert.resolved_at = None
        alert.arrived_at = alert.arrived_by = alert.arrival_missed_at = None
        alert.due_at = alert.overdue_at = None  # a new dispatch, a new due time
        alert.reminders = 0
        self._reopened.append(
            {
                "alert_id": alert.id,
                "read_version": version,
                "new_severity": severity,
                "new_rule_id": rule_id,
                "reopened_at": self.now,
            }
        )
        self.changed(alert)
        self._new_rows[INSERT_TRANSITIONS].append(
            {
                "alert_id": alert.id,
                "from_status": previous,
                "to_status": AlertStatus.NEW,
                "version": version + 1,
                "actor": "rules",
                "actor_id": None,
                "at": self.now,
                "note": note,
            }
        )

    def point_group(self, key: str, alert: AlertState) -> None:
        """Make `alert` the current alert of a locked group."""
        self._groups[key] = alert.id
        self._group_updates[key] = alert.id

    def add_event(
        self, alert: AlertState, rule_id: str, signal: Signal, snapshot_path: str | None = None
    ) -> None:
        """Record that `signal` raised, updated or ended `alert` for the rule."""
        self._recorded.add((signal.key, rule_id))
        self._episodes[(rule_id, signal.episode_key)] = alert.id
        self._new_rows[INSERT_EVENTS].append(
            {
                "alert_id": alert.id,
                "rule_id": rule_id,
                "event_key": signal.key,
                "episode_key": signal.episode_key,
                "event_id": signal.event_id,
                "kind": signal.kind.value,
                "type": signal.type,
                "phase": signal.phase.value,
                "observed_at": signal.observed_at,
                "confidence": signal.confidence,
                "snapshot_path": snapshot_path,
                "entry_id": signal.entry_id,
                "attributes": signal.attributes,
            }
        )

    def changed(self, alert: AlertState) -> None:
        """Note that the engine's columns of an existing alert changed (written on flush)."""
        alert.updated_at = self.now
        self._changed.add(alert.id)

    def announce(self, alert: AlertState, change: Change, entry_id: str = "") -> None:
        """Queue the change for the live feed, as the alert is now."""
        self._changes.append(AlertChange.of(alert, change, self.now, entry_id))

    def notify(self, notice: Notice) -> None:
        """Queue notification jobs for the notice's recipients (looked up on flush)."""
        self._notices.append(notice)

    def set_timer(self, timers: TimerSet, alert: AlertState, due_ms: int | None) -> None:
        """Set the alert's timer in `timers` on flush (None: cancel it)."""
        self._timers.setdefault(timers, {})[str(alert.id)] = due_ms

    def flush(self) -> list[int]:
        """Write everything pending: new rows, changed alerts and groups, the outbox, and the
        timers (before the commit: a timer whose alert never commits finds nothing). Returns
        the ids of the outbox entries written, to publish once committed."""
        self._write_rows()
        if self._group_updates:
            self.session.execute(
                UPDATE_GROUP, [{"key": k, "alert_id": a} for k, a in self._group_updates.items()]
            )
            self._group_updates.clear()
        if self._reopened:
            self.session.execute(REOPEN_ALERT, self._reopened)
            self._reopened.clear()
        if self._changed:
            self.session.execute(
                UPDATE_ALERT,
                [{"alert_id": i, **_engine_values(self._alerts[i])} for i in sorted(self._changed)],
            )
            self._changed.clear()
        outputs: list[AlertChange | NotificationJob] = [*self._changes]
        outputs += jobs(self.session, self.directory, self._notices)
        outbox_ids = add_outputs(self.session, outputs)
        self._changes.clear()
        self._notices.clear()
        for timers, due_ms in self._timers.items():
            timers.set_many(due_ms)
        self._timers.clear()
        return outbox_ids

    def _write_rows(self) -> None:
        """Insert the pending persons, audit rows and events (which later reads must see)."""
        for statement, rows in self._new_rows.items():
            if rows:
                self.session.execute(statement, rows)
                rows.clear()


def _engine_values(alert: AlertState) -> dict[str, Any]:
    return {name: getattr(alert, name) for name in ENGINE_COLUMNS}
