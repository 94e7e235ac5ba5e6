"""The transactional outbox: stream entries are written with the change they announce and
published to Redis after commit, so a crash between the two loses nothing."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import redis
from sqlalchemy import Delete, Table, delete, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import OutboxEntry
from records.base import utcnow
from records.feed import ALERTS_CHANNEL, NOTIFICATIONS_CHANNEL, AlertChange, NotificationJob
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


OUTBOX: Table = OutboxEntry.__table__  # type: ignore[assignment]
INSERT_OUTPUTS = insert(OUTBOX).returning(OUTBOX.c.id)
ASYNC_COMMIT = text("SET LOCAL synchronous_commit = off")


def add_change(session: Session, change: AlertChange) -> None:
    """Queue an alert change for the live feed (published after commit)."""
    session.add(OutboxEntry(channel=ALERTS_CHANNEL, fields=change.to_fields(), created_at=utcnow()))


def add_outputs(session: Session, outputs: Sequence[AlertChange | NotificationJob]) -> list[int]:
    """Queue alert changes and notification jobs in one statement, to be published after
    commit in the order given. Returns their outbox ids (for `publish`)."""
    if not outputs:
        return []
    now = utcnow()
    rows = session.execute(
        INSERT_OUTPUTS,
        [
            {
                "channel": ALERTS_CHANNEL
                if isinstance(output, AlertChange)
                else NOTIFICATIONS_CHANNEL,
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
    """Delete outbox entries and publish them, oldest first, before the delete commits (a
    crash in between publishes them again: `seq` repeats)."""
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
            pipe.xadd(
                streams.stream(channel),
                {**fields, "seq": str(seq)},
                maxlen=streams.maxlen,
                approximate=True,
            )
        pipe.execute()
    return len(rows)
