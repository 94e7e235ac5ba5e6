"""The transactional outbox: stream entries are written with the change they announce and
published to Redis after commit, so a crash between the two loses nothing."""

from collections.abc import Mapping
from dataclasses import dataclass

import redis
from sqlalchemy import delete, select
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


def add_change(session: Session, change: AlertChange) -> None:
    """Queue an alert change for the live feed (published after commit)."""
    session.add(OutboxEntry(channel=ALERTS_CHANNEL, fields=change.to_fields(), created_at=utcnow()))


def add_job(session: Session, job: NotificationJob) -> None:
    """Queue a notification job for the dispatcher (published after commit)."""
    session.add(
        OutboxEntry(channel=NOTIFICATIONS_CHANNEL, fields=job.to_fields(), created_at=utcnow())
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
    with sessions.begin() as session:
        rows = session.scalars(
            select(OutboxEntry)
            .order_by(OutboxEntry.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return 0
        session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_([row.id for row in rows])))
        pipe = client.pipeline(transaction=False)
        for row in rows:
            fields = {**row.fields, "seq": str(row.id)}
            pipe.xadd(streams.stream(row.channel), fields, maxlen=streams.maxlen, approximate=True)
        # Published before the delete commits: a crash in between publishes again (seq repeats).
        pipe.execute()
    return len(rows)
