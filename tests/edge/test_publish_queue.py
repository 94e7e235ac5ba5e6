"""The SQLite store-and-forward queue: durable, ordered, bounded with counted evictions."""

import sqlite3
import threading
from pathlib import Path

import pytest

from edge.publish import EvictionClass, OutboxQueue, QueueError
from edge.publish.queue import MessageKind, Outgoing


def event(event_id: str, *, update: bool = False, size: int = 100) -> Outgoing:
    return Outgoing(
        kind=MessageKind.EVENT,
        eviction_class=EvictionClass.EVENT_UPDATE if update else EvictionClass.EVENT,
        event_id=event_id,
        topic="shouwang/v1/s/cam/event",
        payload=b"e" * size,
    )


def snapshot(event_id: str, size: int = 1000) -> Outgoing:
    return Outgoing(
        kind=MessageKind.SNAPSHOT,
        eviction_class=EvictionClass.SNAPSHOT,
        event_id=event_id,
        topic="shouwang/v1/s/cam/snapshot",
        payload=b"j" * size,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "sub" / "outbox.sqlite3"


def open_queue(path: Path, max_messages: int = 1000, max_bytes: int = 10**8) -> OutboxQueue:
    return OutboxQueue(path, max_messages=max_messages, max_bytes=max_bytes)


def stored(ids: list[int | None]) -> list[int]:
    """The queue ids of messages that were kept."""
    assert None not in ids
    return [i for i in ids if i is not None]


def ids_in(queue: OutboxQueue) -> list[str]:
    return [m.event_id for m in queue.peek_after(0, 10**6)]


def test_fifo_and_ack(path: Path) -> None:
    queue = open_queue(path)
    ids = stored(queue.put([event(f"e{i}") for i in range(5)]))
    assert ids == sorted(ids)
    assert ids_in(queue) == ["e0", "e1", "e2", "e3", "e4"]
    rows = queue.peek_after(ids[1], 2)
    assert [r.event_id for r in rows] == ["e2", "e3"]
    removed = queue.ack([ids[0], ids[2], 999_999])
    assert [r.event_id for r in removed] == ["e0", "e2"]
    assert ids_in(queue) == ["e1", "e3", "e4"]
    stats = queue.stats()
    assert (stats.depth, stats.events, stats.queued, stats.sent) == (3, 3, 5, 2)
    queue.close()


def test_survives_reopen_and_ids_are_never_reused(path: Path) -> None:
    queue = open_queue(path)
    first = stored(queue.put([event("a"), snapshot("a"), event("b")]))
    queue.ack([first[2]])  # delete the newest row: AUTOINCREMENT must not hand its id out again
    queue.close()
    queue = open_queue(path)
    assert ids_in(queue) == ["a", "a"]
    assert queue.depth == 2 and queue.event_depth == 1
    assert queue.stats().bytes == 1100
    (later,) = queue.put([event("c")])
    assert later is not None and later > first[2]
    queue.close()


def test_wal_and_full_sync(path: Path) -> None:
    queue = open_queue(path)
    (row,) = stored(queue.put([event("a")]))
    queue.ack([row])  # deletes commit without fsync, and must not leave puts without it
    assert queue._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    queue.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_one_process_per_file(path: Path) -> None:
    queue = open_queue(path)
    with pytest.raises(QueueError, match="in use by another process"):
        open_queue(path)
    queue.close()
    open_queue(path).close()  # the lock goes with close()


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "outbox.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(QueueError, match="cannot be opened as SQLite"):
        open_queue(bad)
    open_queue(tmp_path / "other.sqlite3").close()


def test_eviction_order_snapshots_then_oldest_updates_then_oldest(path: Path) -> None:
    queue = open_queue(path, max_messages=5)
    queue.put([event("s1"), snapshot("s1"), event("u1", update=True), event("u2", update=True)])
    queue.put([event("s2")])  # 5 messages: full
    queue.put([event("s3")])  # evicts the snapshot
    assert ids_in(queue) == ["s1", "u1", "u2", "s2", "s3"]
    queue.put([event("s4")])  # evicts the oldest update
    queue.put([event("e1")])  # evicts the other update
    assert ids_in(queue) == ["s1", "s2", "s3", "s4", "e1"]
    queue.put([event("e2")])  # only start/end left: the oldest goes
    assert ids_in(queue) == ["s2", "s3", "s4", "e1", "e2"]
    stats = queue.stats()
    assert stats.evicted == {"clip": 0, "snapshot": 1, "event_update": 2, "event": 1}
    assert stats.depth == 5 and stats.queued == 9
    queue.close()


def test_clips_are_evicted_before_snapshots(path: Path) -> None:
    queue = open_queue(path, max_messages=1000, max_bytes=3500)
    clip = Outgoing(
        MessageKind.CLIP, EvictionClass.CLIP, "c1", "shouwang/v1/s/cam/clip", b"m" * 1500
    )
    queue.put([event("c1"), snapshot("c1"), clip])
    queue.put([snapshot("c2")])  # over the byte bound: the older clip goes, not the snapshot
    assert [(m.kind, m.event_id) for m in queue.peek_after(0, 10)] == [
        (MessageKind.EVENT, "c1"),
        (MessageKind.SNAPSHOT, "c1"),
        (MessageKind.SNAPSHOT, "c2"),
    ]
    assert queue.stats().evicted["clip"] == 1
    assert queue.event_depth == 1
    queue.close()


def test_incoming_of_lower_priority_than_everything_queued_is_dropped(path: Path) -> None:
    queue = open_queue(path, max_messages=10)
    queue.put([event(f"s{i}") for i in range(10)])
    assert queue.put([event("u", update=True), snapshot("u")]) == [None, None]
    assert ids_in(queue) == [f"s{i}" for i in range(10)]
    assert queue.stats().evicted == {"clip": 0, "snapshot": 1, "event_update": 1, "event": 0}
    queue.close()


def test_byte_bound_evicts_snapshots_first(path: Path) -> None:
    queue = open_queue(path, max_messages=1000, max_bytes=3000)
    queue.put([event("a"), snapshot("a", 1400), event("b"), snapshot("b", 1400)])
    queue.put([event("c")])  # 3000 + 100 bytes: the older snapshot goes
    rows = queue.peek_after(0, 100)
    assert [(r.kind.value, r.event_id) for r in rows] == [
        ("event", "a"),
        ("event", "b"),
        ("snapshot", "b"),
        ("event", "c"),
    ]
    assert queue.stats().bytes == 1700
    assert queue.put([snapshot("huge", 5000)]) == [None]  # larger than the whole queue
    assert queue.stats().evicted["snapshot"] == 2
    queue.close()


def test_eviction_is_logged_with_event_id(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queue = open_queue(path, max_messages=10)
    queue.put([event(f"old-{i}", update=True) for i in range(10)])
    queue.put([event("new")])
    queue.close()
    err = capsys.readouterr()
    output = err.out + err.err
    assert "queue.evicted" in output and "old-0" in output and "event_update" in output


def test_concurrent_writers(path: Path) -> None:
    queue = open_queue(path, max_messages=10_000)

    def write(prefix: str) -> None:
        for i in range(100):
            queue.put([event(f"{prefix}-{i:03d}")])

    threads = [threading.Thread(target=write, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = ids_in(queue)
    assert len(ids) == 400 == queue.depth
    for n in range(4):
        mine = [i for i in ids if i.startswith(f"t{n}-")]
        assert mine == sorted(mine)  # each writer's order is kept
    queue.close()


def test_closed_queue_refuses_work(path: Path) -> None:
    queue = open_queue(path)
    queue.close()
    queue.close()
    with pytest.raises(QueueError, match="closed"):
        queue.put([event("x")])
