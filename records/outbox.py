"""The transactional outbox: what a change tells Redis — stream entries and timer changes —
is written with the change and published after commit, so a crash or a Redis outage between
the two loses nothing (the sweep publishes what is left)."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import Delete, Table, delete, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import OutboxEntry
from records.base import utcnow
from records.feed import ALERTS_CHANNEL, NOTIFICATIONS_CHANNEL, AlertChange, NotificationJob
from records.timers import TimerOp
from shouwang.redis_keys import ALERTS_STREAM, NOTIFICATIONS_STREAM


@dataclass(frozen=True, slots=True)
class OutputStreams:
    """Where outbox channels are published, and each stream's approximate cap."""

    alerts: str = ALERTS_STREAM
    notifications: str = NOTIFICATIONS_STREAM
    maxlen: int = 100_000

    def stream(self, channel: str) -> str:
        """The stream name of an outbox channel."""
        names: Mapping[str, str] = {
            ALERTS_CHANNEL: self.alerts,
            NOTIFICATIONS_CHANNEL: self.notifications,
        }
        return names[channel]


TIMERS_CHANNEL = "timers"
"""Outbox entries that are timer changes (`TimerOp`), applied rather than streamed."""
Output = AlertChange | NotificationJob | TimerOp
"""What an outbox entry carries."""
CHANNELS: dict[type[Output], str] = {
    AlertChange: ALERTS_CHANNEL,
    NotificationJob: NOTIFICATIONS_CHANNEL,
    TimerOp: TIMERS_CHANNEL,
}

OUTBOX: Table = OutboxEntry.__table__  # type: ignore[assignment]
INSERT_OUTPUTS = insert(OUTBOX).returning(OUTBOX.c.id)
ASYNC_COMMIT = text("SET LOCAL synchronous_commit = off")


def add_output(session: Session, output: Output) -> None:
    """Queue an alert change, notification job or timer change (published after commit)."""
    session.add(
        OutboxEntry(channel=CHANNELS[type(output)], fields=output.to_fields(), created_at=utcnow())
    )


def add_outputs(session: Session, outputs: Sequence[Output]) -> list[int]:
    """Queue outputs in one statement, to be published after commit in the order given.
    Returns their outbox ids (for `publish`)."""
    if not outputs:
        return []
    now = utcnow()
    rows = session.execute(
        INSERT_OUTPUTS,
        [
            {
                "channel": CHANNELS[type(output)],
                "fields": output.to_fields(),
                "created_at": now,
            }
            for output in outputs
        ],
    )
    return list(rows.scalars())


def publish(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    streams: OutputStreams,
    ids: Collection[int],
) -> int:
    """Publish the committed outbox entries with these ids, and delete them; entries another
    publisher took meanwhile are left to it. Returns how many were published."""
    if not ids:
        return 0
    return _publish(sessions, client, streams, delete(OUTBOX).where(OUTBOX.c.id.in_(ids)))


def publish_pending(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    streams: OutputStreams,
    *,
    limit: int = 500,
) -> int:
    """Publish up to `limit` committed outbox entries, oldest first, and delete them.

    Safe to call from several processes at once (PostgreSQL skips rows another publisher holds;
    SQLite serialises writers). Returns how many were published.
    """
    oldest = (
        select(OUTBOX.c.id)
        .order_by(OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return _publish(sessions, client, streams, delete(OUTBOX).where(OUTBOX.c.id.in_(oldest)))


def _publish(
    sessions: sessionmaker[Session], client: redis.Redis, streams: OutputStreams, taken: Delete
) -> int:
    """Delete outbox entries and publish them in one pipeline, oldest first, before the delete
    commits (a crash in between publishes them again: `seq` repeats, a timer change does
    nothing more). The pipeline is not a transaction, so on a Redis Cluster each entry goes
    to the node of its key's slot: a timer change to its partition's, in order per node."""
    with sessions.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            # The delete need not wait for the disk: should the server lose it, the entries
            # are published again, as after any crash.
            session.execute(ASYNC_COMMIT)
        rows = session.execute(
            taken.returning(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.fields)
        ).all()
        if not rows:
            return 0
        pipe = client.pipeline(transaction=False)
        for seq, channel, fields in sorted(rows, key=lambda row: row[0]):
            _queue(pipe, streams, seq, channel, fields)
        pipe.execute()
    return len(rows)


def _queue(
    pipe: Any, streams: OutputStreams, seq: int, channel: str, fields: dict[str, str]
) -> None:
    """Queue one outbox entry on the pipeline: a timer change, or a stream entry with `seq`."""
    if channel == TIMERS_CHANNEL:
        TimerOp.from_fields(fields).queue(pipe)
        return
    pipe.xadd(
        streams.stream(channel),
        {**fields, "seq": str(seq)},
        maxlen=streams.maxlen,
        approximate=True,
    )
