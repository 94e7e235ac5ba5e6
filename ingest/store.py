"""Everything ingest writes to Redis, batched into one pipeline per round trip."""

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from shouwang.redis_keys import (
    EDGES_KEY,
    WORKERS_KEY,
    edge_key,
    seen_key,
    subscription_key,
    worker_key,
)

# For each message: append to the stream only if its idempotency key is new, and remember
# the key with the entry id. One script call per batch (KEYS[1] the stream, KEYS[2..] the
# keys; ARGV: ttl, maxlen, then per message its field count and fields). Atomic, so a crash
# can never leave a key set without its entry, which would lose the message.
APPEND_ONCE = """
local ttl, maxlen = ARGV[1], ARGV[2]
local results = {}
local position = 3
for i = 2, #KEYS do
  local count = tonumber(ARGV[position])
  if redis.call('EXISTS', KEYS[i]) == 1 then
    results[i - 1] = false
  else
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*',
                          unpack(ARGV, position + 1, position + count))
    redis.call('SET', KEYS[i], id, 'EX', ttl)
    results[i - 1] = id
  end
  position = position + count + 1
end
return results
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


WORKER_FORGET_MS = 24 * 3600 * 1000
"""Workers silent for a day drop out of the health view."""


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
        """Apply all writes in one round trip; raise redis errors so the caller can retry.

        Returns one outcome per write: True (appended), False (duplicate key) or None (state
        updates and dead letters, which are not de-duplicated).
        """
        pipe = self.client.pipeline(transaction=False)
        appends = [write for write in writes if isinstance(write, StreamAppend)]
        if appends:
            self._queue_appends(pipe, appends)
        for write in writes:
            if not isinstance(write, StreamAppend):
                self._queue_update(pipe, write)
        replies = pipe.execute(raise_on_error=True)
        appended = iter(replies[0] if appends else [])
        return [
            next(appended) is not None if isinstance(write, StreamAppend) else None
            for write in writes
        ]

    def _queue_appends(self, pipe: Any, appends: Sequence[StreamAppend]) -> None:
        args: list[str | int] = [self.dedup_ttl_s, self.stream_maxlen]
        for write in appends:
            args.append(len(write.fields) * 2)
            for name, value in write.fields.items():
                args.extend((name, value))
        keys = [self.stream, *(seen_key(write.key) for write in appends)]
        self._append_once(keys=keys, args=args, client=pipe)

    def _queue_update(self, pipe: Any, write: DeadLetter | StatusUpdate | HeartbeatUpdate) -> None:
        if isinstance(write, DeadLetter):
            pipe.xadd(
                self.deadletter_stream,
                dict(write.fields),
                maxlen=self.deadletter_maxlen,
                approximate=True,
            )
        elif isinstance(write, StatusUpdate):
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
        else:
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
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", now_ms - WORKER_FORGET_MS)
        pipe.execute()

    def previous_subscription(self, worker_id: str) -> str | None:
        """The filter this worker's session subscribed to last time, if known."""
        value = self.client.get(subscription_key(worker_id))
        return value.decode() if isinstance(value, bytes) else value

    def remember_subscription(self, worker_id: str, topic_filter: str, ttl_s: int) -> None:
        """Remember the session's filter for as long as the broker keeps the session."""
        self.client.set(subscription_key(worker_id), topic_filter, ex=max(ttl_s, 60))
