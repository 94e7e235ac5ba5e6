"""Everything ingest writes to Redis, batched into one pipeline per round trip."""

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

# Append to the stream only if the idempotency key is new; remember the key with the entry id.
# Atomic, so a crash can never leave the key set without the entry (which would lose the event).
APPEND_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
return id
"""

# Keep the newest status per edge: sessions are ordered by connected_at, and within a session
# `offline` (the last will, or a clean stop) comes after `online`.
RECORD_STATUS = """
local order = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'status_order') or '-1')
if order < current then return 0 end
redis.call('HSET', KEYS[1], 'status_order', ARGV[1], 'status', ARGV[2], 'session_id', ARGV[3],
           'connected_at', ARGV[4], 'status_reason', ARGV[5], 'status_received_ms', ARGV[6],
           'last_seen_ms', ARGV[6], 'site', ARGV[7], 'edge', ARGV[8])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[7] .. '/' .. ARGV[8])
return 1
"""

EDGES_KEY = "shouwang:edges"
WORKERS_KEY = "shouwang:ingest:workers"


def edge_key(site: str, edge: str) -> str:
    """Hash holding the latest status and heartbeat of one edge agent."""
    return f"shouwang:edge:{site}:{edge}"


def worker_key(worker_id: str) -> str:
    """Hash holding one ingest worker's counters, refreshed every few seconds."""
    return f"shouwang:ingest:worker:{worker_id}"


def seen_key(idempotency_key: str) -> str:
    """String remembering that a message with this idempotency key was stored."""
    return f"shouwang:seen:{idempotency_key}"


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Append `fields` to the events stream unless `key` was stored before."""

    key: str
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected message and why."""

    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """An edge's online/offline status, ordered by (connected_at, state)."""

    site: str
    edge: str
    state: str
    session_id: str
    connected_at: str
    order: int
    reason: str
    received_ms: int


@dataclass(frozen=True, slots=True)
class HeartbeatUpdate:
    """The latest heartbeat of an edge (its JSON), kept as edge state."""

    site: str
    edge: str
    payload: str
    received_ms: int


Write = StreamAppend | DeadLetter | StatusUpdate | HeartbeatUpdate


class RedisStore:
    """Writes a batch of ingest results to Redis in one pipelined round trip."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str,
        stream_maxlen: int,
        deadletter_stream: str,
        deadletter_maxlen: int,
        dedup_ttl_s: int,
    ) -> None:
        self.client = client
        self.stream = stream
        self.stream_maxlen = stream_maxlen
        self.deadletter_stream = deadletter_stream
        self.deadletter_maxlen = deadletter_maxlen
        self.dedup_ttl_s = dedup_ttl_s
        self._append_once = client.register_script(APPEND_ONCE)
        self._record_status = client.register_script(RECORD_STATUS)

    def write(self, writes: Sequence[Write]) -> list[bool | None]:
        """Apply all writes in one pipeline; raise redis errors so the caller can retry.

        Returns one outcome per write: True (appended), False (duplicate key) or None (state
        updates and dead letters, which are not de-duplicated).
        """
        pipe = self.client.pipeline(transaction=False)
        commands = [self._queue(pipe, write) for write in writes]
        replies = pipe.execute(raise_on_error=True)
        outcomes: list[bool | None] = []
        index = 0
        for write, count in zip(writes, commands, strict=True):
            outcomes.append(replies[index] is not None if isinstance(write, StreamAppend) else None)
            index += count
        return outcomes

    def _queue(self, pipe: Any, write: Write) -> int:
        """Queue the commands for one write; return how many were queued."""
        if isinstance(write, StreamAppend):
            args: list[str | int] = [self.dedup_ttl_s, self.stream_maxlen]
            for name, value in write.fields.items():
                args.extend((name, value))
            self._append_once(keys=[seen_key(write.key), self.stream], args=args, client=pipe)
            return 1
        if isinstance(write, DeadLetter):
            pipe.xadd(
                self.deadletter_stream,
                dict(write.fields),
                maxlen=self.deadletter_maxlen,
                approximate=True,
            )
            return 1
        if isinstance(write, StatusUpdate):
            self._record_status(
                keys=[edge_key(write.site, write.edge), EDGES_KEY],
                args=[
                    write.order,
                    write.state,
                    write.session_id,
                    write.connected_at,
                    write.reason,
                    write.received_ms,
                    write.site,
                    write.edge,
                ],
                client=pipe,
            )
            return 1
        pipe.hset(
            edge_key(write.site, write.edge),
            mapping={
                "heartbeat": write.payload,
                "heartbeat_received_ms": write.received_ms,
                "last_seen_ms": write.received_ms,
                "site": write.site,
                "edge": write.edge,
            },
        )
        pipe.zadd(EDGES_KEY, {f"{write.site}/{write.edge}": write.received_ms})
        return 2

    def write_worker_state(self, worker_id: str, state: Mapping[str, Any], ttl_s: int) -> None:
        """Publish a worker's counters for the health view."""
        now_ms = int(time.time() * 1000)
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(
            worker_key(worker_id),
            mapping={"state": json.dumps(state), "last_beat_ms": now_ms},
        )
        pipe.expire(worker_key(worker_id), ttl_s)
        pipe.zadd(WORKERS_KEY, {worker_id: now_ms})
        pipe.execute()
