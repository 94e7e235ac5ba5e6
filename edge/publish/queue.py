"""Durable store-and-forward queue (SQLite, WAL) for events, snapshots and clips awaiting a
PUBACK.

Durability: `journal_mode=WAL` with `synchronous=FULL` for every `put`. In WAL mode `NORMAL`
survives a crashed or killed process but may lose the last commits on power loss, and a village
box losing power is the outage this queue exists for. Events are rare (a few a minute per camera),
so one fsync per `put` is cheap (measured 0.3-3 ms here). Deletes of acknowledged messages are
committed with `synchronous=NORMAL` (no fsync of their own; the next `put` or checkpoint makes
them durable): a delete lost to a power cut only means one duplicate delivery, which ingest
ignores by `event_id`, and replay is not held back by one fsync per PUBACK batch.
"""

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import structlog

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind      TEXT    NOT NULL,
    class     TEXT    NOT NULL,
    priority  INTEGER NOT NULL,
    event_id  TEXT    NOT NULL,
    topic     TEXT    NOT NULL,
    payload   BLOB    NOT NULL,
    queued_at REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_eviction ON outbox (priority, id);
"""


class MessageKind(StrEnum):
    """What a queued message is."""

    EVENT = "event"
    SNAPSHOT = "snapshot"
    CLIP = "clip"


class EvictionClass(StrEnum):
    """Eviction order when the queue is full: lowest priority first, oldest first within it."""

    CLIP = "clip"
    SNAPSHOT = "snapshot"
    EVENT_UPDATE = "event_update"
    EVENT = "event"

    @property
    def priority(self) -> int:
        """0 is evicted first."""
        return _PRIORITY[self]


# Clips came after the others: -1 keeps the priorities of queue files written before them.
_PRIORITY = {
    EvictionClass.CLIP: -1,
    EvictionClass.SNAPSHOT: 0,
    EvictionClass.EVENT_UPDATE: 1,
    EvictionClass.EVENT: 2,
}


class QueueError(Exception):
    """The queue file cannot be used; the message names the file and what to do."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to store: where it goes, what it is, and its payload."""

    kind: MessageKind
    eviction_class: EvictionClass
    event_id: str
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """A stored message, in insertion order by `id`."""

    id: int
    kind: MessageKind
    event_id: str
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Removed:
    """A message taken out of the queue (delivered or evicted)."""

    id: int
    kind: MessageKind
    event_id: str


@dataclass(slots=True)
class QueueStats:
    """Counters since the queue was opened, plus what it holds now."""

    depth: int = 0
    events: int = 0
    bytes: int = 0
    queued: int = 0
    sent: int = 0
    evicted: dict[str, int] = field(default_factory=lambda: {c.value: 0 for c in EvictionClass})


class OutboxQueue:
    """Bounded, durable FIFO of messages; thread-safe. One process per file (flock)."""

    def __init__(self, path: Path, *, max_messages: int, max_bytes: int) -> None:
        self.path = Path(path)
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._log = structlog.get_logger("edge.publish.queue").bind(queue=str(self.path))
        self._lock = threading.Lock()
        self._lock_fd = self._acquire_file_lock()
        try:
            self._db = self._open()
        except BaseException:
            os.close(self._lock_fd)
            raise
        self._depth: dict[EvictionClass, int] = {c: 0 for c in EvictionClass}
        self._bytes = 0
        self._stats = QueueStats()
        rows = self._db.execute(
            "SELECT class, COUNT(*), COALESCE(SUM(LENGTH(payload)), 0) FROM outbox GROUP BY class"
        ).fetchall()
        for name, count, size in rows:
            self._depth[EvictionClass(name)] = count
            self._bytes += size
        self._closed = False

    def _acquire_file_lock(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise QueueError(
                f"queue file {self.path}: cannot create its directory or lock file: {exc}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise QueueError(
                f"queue file {self.path} is in use by another process; stop it, or give each "
                "publisher its own queue_path"
            ) from None
        return fd

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                db.close()
                raise QueueError(
                    f"queue file {self.path} has schema version {version}, this code reads "
                    f"{SCHEMA_VERSION}; deliver it with the matching version or move it away"
                )
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise QueueError(
                f"queue file {self.path} cannot be opened as SQLite ({exc}); "
                "move it away to start an empty queue"
            ) from None
        return db

    # -- writing ------------------------------------------------------------------------------

    def put(self, messages: Sequence[Outgoing]) -> list[int | None]:
        """Store `messages` durably in one transaction, evicting per policy if full.

        Returns each message's queue id, or None where the message itself was evicted (it had a
        lower priority than everything queued). Raises sqlite3.Error if the disk fails.
        """
        ids: list[int | None] = []
        evicted: list[tuple[Removed, EvictionClass, int, str]] = []
        with self._lock:
            self._check_open()
            depth = dict(self._depth)
            size_total = self._bytes
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for message in messages:
                    size = len(message.payload)
                    incoming = message.eviction_class
                    keep = size <= self.max_bytes
                    while keep and (
                        sum(depth.values()) + 1 > self.max_messages
                        or size_total + size > self.max_bytes
                    ):
                        victim = self._db.execute(
                            "SELECT id, kind, class, event_id, LENGTH(payload) FROM outbox "
                            "ORDER BY priority, id LIMIT 1"
                        ).fetchone()
                        if victim is None or EvictionClass(victim[2]).priority > incoming.priority:
                            keep = False
                            break
                        row_id, kind, name, event_id, victim_size = victim
                        self._db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
                        victim_class = EvictionClass(name)
                        depth[victim_class] -= 1
                        size_total -= victim_size
                        removed = Removed(row_id, MessageKind(kind), event_id)
                        evicted.append((removed, victim_class, victim_size, "queue full"))
                    if not keep:
                        reason = "larger than the queue" if size > self.max_bytes else "queue full"
                        removed = Removed(0, message.kind, message.event_id)
                        evicted.append((removed, incoming, size, f"{reason}, incoming dropped"))
                        ids.append(None)
                        continue
                    cursor = self._db.execute(
                        "INSERT INTO outbox (kind, class, priority, event_id, topic, payload, "
                        "queued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            message.kind.value,
                            incoming.value,
                            incoming.priority,
                            message.event_id,
                            message.topic,
                            message.payload,
                            time.time(),
                        ),
                    )
                    depth[incoming] += 1
                    size_total += size
                    ids.append(cursor.lastrowid)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._depth = depth
            self._bytes = size_total
            self._stats.queued += sum(1 for i in ids if i is not None)
            for _, victim_class, _, _ in evicted:
                self._stats.evicted[victim_class.value] += 1
        for removed, victim_class, victim_size, reason in evicted:
            self._log.warning(
                "queue.evicted",
                event_id=removed.event_id,
                kind=removed.kind.value,
                eviction_class=victim_class.value,
                bytes=victim_size,
                reason=reason,
                depth=sum(depth.values()),
            )
        return ids

    def ack(self, ids: Iterable[int]) -> list[Removed]:
        """Delete the messages the broker acknowledged; return those that were still queued."""
        wanted = sorted(set(ids))
        removed: list[Removed] = []
        if not wanted:
            return removed
        with self._lock:
            self._check_open()
            self._db.execute("PRAGMA synchronous=NORMAL")  # see the module docstring
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows: list[Any] = []
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows += self._db.execute(
                        f"DELETE FROM outbox WHERE id IN ({marks}) "
                        "RETURNING id, kind, class, event_id, LENGTH(payload)",
                        chunk,
                    ).fetchall()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._db.execute("PRAGMA synchronous=FULL")
            for row_id, kind, name, event_id, size in rows:
                self._depth[EvictionClass(name)] -= 1
                self._bytes -= size
                removed.append(Removed(row_id, MessageKind(kind), event_id))
            self._stats.sent += len(rows)
        return removed

    # -- reading ------------------------------------------------------------------------------

    def peek_after(self, after_id: int, limit: int) -> list[QueuedMessage]:
        """Up to `limit` queued messages with id > `after_id`, oldest first."""
        with self._lock:
            self._check_open()
            rows = self._db.execute(
                "SELECT id, kind, event_id, topic, payload FROM outbox WHERE id > ? "
                "ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [QueuedMessage(r[0], MessageKind(r[1]), r[2], r[3], bytes(r[4])) for r in rows]

    @property
    def depth(self) -> int:
        """Messages (events, snapshots and clips) waiting."""
        return sum(self._depth.values())

    @property
    def event_depth(self) -> int:
        """Events waiting (snapshots and clips not counted)."""
        return self._depth[EvictionClass.EVENT] + self._depth[EvictionClass.EVENT_UPDATE]

    def stats(self) -> QueueStats:
        """A copy of the counters."""
        with self._lock:
            return QueueStats(
                depth=self.depth,
                events=self.event_depth,
                bytes=self._bytes,
                queued=self._stats.queued,
                sent=self._stats.sent,
                evicted=dict(self._stats.evicted),
            )

    def _check_open(self) -> None:
        if self._closed:
            raise QueueError(f"queue file {self.path} is closed")

    def close(self) -> None:
        """Close the SQLite file (checkpointing the WAL) and release the file lock."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._db.close()
            os.close(self._lock_fd)
