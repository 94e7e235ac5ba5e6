"""Everything ingest writes to Redis, batched into one pipeline per round trip."""

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from shouwang.partitions import in_partition
from shouwang.redis_client import queue_script, queue_wait
from shouwang.redis_keys import (
    EDGES_KEY,
    WORKERS_KEY,
    edge_key,
    partitions_key,
    seen_key,
    subscription_key,
    worker_key,
)

# For each message: append to the stream only if its idempotency key is new, and remember
# the key with the entry id. One script call per partition in a batch (KEYS[1] the
# partition's stream, KEYS[2..] the keys, all in its hash slot; ARGV: ttl, maxlen, then per
# message its field count and fields). Atomic, so a crash can never leave a key set without
# its entry, which would lose the message.
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
# `offline` (the last will, or a clean stop) comes after `online`. One key, so it runs on a
# cluster; the edges index is updated beside it.
RECORD_STATUS = """
local order = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'status_order') or '-1')
if order < current then return 0 end
redis.call('HSET', KEYS[1], 'status_order', ARGV[1], 'status', ARGV[2], 'session_id', ARGV[3],
           'connected_at', ARGV[4], 'status_reason', ARGV[5], 'status_received_ms', ARGV[6],
           'last_seen_ms', ARGV[6], 'site', ARGV[7], 'edge', ARGV[8])
return 1
"""


WORKER_FORGET_MS = 24 * 3600 * 1000
"""Workers silent for a day drop out of the health view."""


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Append `fields` to the events stream of `partition` (None: the one stream) unless `key`
    was stored there before."""

    key: str
    fields: Mapping[str, str]
    partition: str | None = None


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


@dataclass(slots=True)
class Written:
    """What a batch's writes did: per write True (appended), False (duplicate key) or None
    (state updates and dead letters, not de-duplicated); and how many appends fewer replicas
    than asked confirmed in time (kept on their master alone)."""

    outcomes: list[bool | None]
    unreplicated: int = 0
    new_partitions: list[str] = field(default_factory=list)


class RedisStore:
    """Writes a batch of ingest results to Redis in one pipelined round trip (a Redis or a
    Redis Cluster; in a cluster the pipeline goes to each master it touches at once)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        stream: str,
        stream_maxlen: int,
        deadletter_stream: str,
        deadletter_maxlen: int,
        dedup_ttl_s: int,
        replica_acks: int = 0,
        replica_wait_ms: int = 1000,
    ) -> None:
        self.client = client
        self.stream = stream
        self.stream_maxlen = stream_maxlen
        self.deadletter_stream = deadletter_stream
        self.deadletter_maxlen = deadletter_maxlen
        self.dedup_ttl_s = dedup_ttl_s
        self.replica_acks = replica_acks
        self.replica_wait_ms = replica_wait_ms
        self._append_once = client.register_script(APPEND_ONCE)
        self._record_status = client.register_script(RECORD_STATUS)
        self._scripts_loaded = False
        self._partitions: set[str] = set()
        """Partitions known to be in the registry (`partitions_key`)."""

    def stream_of(self, partition: str | None) -> str:
        """The events stream of `partition`."""
        return in_partition(self.stream, partition)

    def write(self, writes: Sequence[Write]) -> Written:
        """Apply all writes in one round trip; raise redis errors so the caller can retry
        (every write may be applied again: appends are de-duplicated)."""
        for attempt in (1, 2):
            if not self._scripts_loaded:
                self._load_scripts()
            try:
                return self._write(writes)
            except redis.exceptions.NoScriptError:
                # A restarted Redis or a promoted replica: the scripts are not in its cache.
                self._scripts_loaded = False
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _load_scripts(self) -> None:
        for script in (self._append_once, self._record_status):
            self.client.script_load(script.script)
        self._scripts_loaded = True

    def _write(self, writes: Sequence[Write]) -> Written:
        pipe = self.client.pipeline(transaction=False)
        by_partition: dict[str | None, list[tuple[int, StreamAppend]]] = {}
        for index, write in enumerate(writes):
            if isinstance(write, StreamAppend):
                by_partition.setdefault(write.partition, []).append((index, write))
        new = sorted(p for p in by_partition if p is not None and p not in self._partitions)
        if new:
            pipe.sadd(partitions_key(self.stream), *new)
        # Per partition: where its script's reply is, the writes it holds, where its WAIT is.
        replies: list[tuple[int, list[int], int | None]] = []
        for partition, appends in by_partition.items():
            position = len(pipe)
            self._queue_appends(pipe, partition, [write for _, write in appends])
            stream = self.stream_of(partition)
            waited = queue_wait(pipe, self.client, stream, self.replica_acks, self.replica_wait_ms)
            replies.append((position, [i for i, _ in appends], len(pipe) - 1 if waited else None))
        for write in writes:
            if not isinstance(write, StreamAppend):
                self._queue_update(pipe, write)
        results = pipe.execute(raise_on_error=True)
        outcomes: list[bool | None] = [None] * len(writes)
        unreplicated = 0
        for position, indices, wait in replies:
            for index, entry_id in zip(indices, results[position], strict=True):
                outcomes[index] = entry_id is not None
            if wait is not None and int(results[wait]) < self.replica_acks:
                unreplicated += len(indices)
        self._partitions.update(new)
        return Written(outcomes, unreplicated, new)

    def _queue_appends(
        self, pipe: Any, partition: str | None, appends: Sequence[StreamAppend]
    ) -> None:
        args: list[str | int] = [self.dedup_ttl_s, self.stream_maxlen]
        for write in appends:
            args.append(len(write.fields) * 2)
            for name, value in write.fields.items():
                args.extend((name, value))
        keys = [self.stream_of(partition), *(seen_key(w.key, partition) for w in appends)]
        queue_script(pipe, self._append_once, keys, args)

    def _queue_update(self, pipe: Any, write: DeadLetter | StatusUpdate | HeartbeatUpdate) -> None:
        if isinstance(write, DeadLetter):
            pipe.xadd(
                self.deadletter_stream,
                dict(write.fields),
                maxlen=self.deadletter_maxlen,
                approximate=True,
            )
        elif isinstance(write, StatusUpdate):
            queue_script(
                pipe,
                self._record_status,
                [edge_key(write.site, write.edge)],
                [
                    write.order,
                    write.state,
                    write.session_id,
                    write.connected_at,
                    write.reason,
                    write.received_ms,
                    write.site,
                    write.edge,
                ],
            )
            pipe.zadd(EDGES_KEY, {f"{write.site}/{write.edge}": write.received_ms})
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
