"""The transactional outbox: stream entries are written with the change they announce and
published to Redis after commit, so a crash between the two loses nothing."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis
from sqlalchemy import Table, delete, insert, select
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


def add_change(session: Session, change: AlertChange) -> None:
    """Queue an alert change for the live feed (published after commit)."""
    session.add(OutboxEntry(channel=ALERTS_CHANNEL, fields=change.to_fields(), created_at=utcnow()))


def add_outputs(session: Session, outputs: Sequence[AlertChange | NotificationJob]) -> None:
    """Queue alert changes and notification jobs in one statement, published after commit in
    the order given."""
    if not outputs:
        return
    now = utcnow()
    session.execute(
        insert(OUTBOX),
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
    taken = (
        delete(OUTBOX)
        .where(OUTBOX.c.id.in_(oldest))
        .returning(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.fields)
    )
    with sessions.begin() as session:
        rows = sorted(session.execute(taken).all())
        if not rows:
            return 0
        pipe = client.pipeline(transaction=False)
        for seq, channel, fields in rows:
            pipe.xadd(
                streams.stream(channel),
                {**fields, "seq": str(seq)},
                maxlen=streams.maxlen,
                approximate=True,
            )
        # Published before the delete commits: a crash in between publishes again (seq repeats).
        pipe.execute()
    return len(rows)
