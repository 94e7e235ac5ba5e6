"""The operator's health view, read from Redis: ingest workers, broker loss, streams, edges."""

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from shouwang.partitions import in_partition
from shouwang.redis_keys import (
    DEADLETTER_STREAM,
    EDGES_KEY,
    EVENTS_STREAM,
    WORKERS_KEY,
    edge_key,
    partitions_key,
    worker_key,
)

STALE_AFTER_MS = 30_000
"""An ingest worker or edge not heard from for this long is reported as not alive."""


@dataclass
class WorkerHealth:
    """One ingest worker's last reported state."""

    worker: str
    alive: bool
    stopped: bool
    last_beat_age_s: float
    connected: bool
    queue_depth: int
    counts: dict[str, int]
    broker: dict[str, float]


@dataclass
class StreamHealth:
    """A Redis Stream's size, newest entry and consumer groups (with their lag)."""

    name: str
    length: int
    newest_age_s: float | None
    groups: list[dict[str, Any]] = field(default_factory=list)
    recent_reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class EdgeHealth:
    """An edge agent's status and last heartbeat."""

    site: str
    edge: str
    status: str
    alive: bool
    last_seen_age_s: float
    fps: float | None
    queue_depth: int | None
    evicted: int | None
    cameras: dict[str, str]
    camera_names: dict[str, str]
    """Display names of the cameras that have one, by camera id."""


@dataclass
class HealthReport:
    """Everything `shouwang health` shows."""

    workers: list[WorkerHealth]
    streams: list[StreamHealth]
    edges: list[EdgeHealth]
    broker_dropped: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _age_s(now_ms: int, then_ms: int | None) -> float:
    return round((now_ms - then_ms) / 1000, 1) if then_ms else float("inf")


def _stream(client: redis.Redis, name: str, now_ms: int, reasons: bool) -> StreamHealth:
    length = int(client.xlen(name))
    newest = client.xrevrange(name, count=1)
    newest_age = _age_s(now_ms, int(newest[0][0].split(b"-")[0])) if newest else None
    groups = []
    if length or client.exists(name):
        for group in client.xinfo_groups(name):
            groups.append(
                {
                    "name": group["name"].decode(),
                    "consumers": group["consumers"],
                    "pending": group["pending"],
                    "lag": group.get("lag"),
                }
            )
    health = StreamHealth(name, length, newest_age, groups)
    if reasons:
        for _, entry in client.xrevrange(name, count=200):
            reason = entry.get(b"reason", b"?").decode()
            health.recent_reasons[reason] = health.recent_reasons.get(reason, 0) + 1
    return health


def read_health(
    client: redis.Redis,
    *,
    events_stream: str = EVENTS_STREAM,
    deadletter_stream: str = DEADLETTER_STREAM,
) -> HealthReport:
    """Collect the health view from Redis (a handful of reads; cheap enough to poll). With
    partitions, each partition's events stream is shown."""
    now_ms = int(time.time() * 1000)
    workers = []
    for raw_id, beat_ms in client.zrevrange(WORKERS_KEY, 0, 99, withscores=True):
        worker_id = raw_id.decode()
        state_json = client.hget(worker_key(worker_id), "state")
        if state_json is None:
            continue
        state = json.loads(state_json)
        age = _age_s(now_ms, int(beat_ms))
        workers.append(
            WorkerHealth(
                worker=worker_id,
                alive=age * 1000 < STALE_AFTER_MS and not state.get("stopped"),
                stopped=bool(state.get("stopped")),
                last_beat_age_s=age,
                connected=bool(state.get("connected")),
                queue_depth=int(state.get("queue_depth", 0)),
                counts=state.get("counts", {}),
                broker=state.get("broker", {}),
            )
        )
    edges = []
    for raw_member, seen_ms in client.zrevrange(EDGES_KEY, 0, 499, withscores=True):
        site, _, edge = raw_member.decode().partition("/")
        state = {k.decode(): v.decode() for k, v in client.hgetall(edge_key(site, edge)).items()}
        heartbeat = json.loads(state["heartbeat"]) if "heartbeat" in state else {}
        age = _age_s(now_ms, int(seen_ms))
        edges.append(
            EdgeHealth(
                site=site,
                edge=edge,
                status=state.get("status", "unknown"),
                alive=age * 1000 < STALE_AFTER_MS and state.get("status") != "offline",
                last_seen_age_s=age,
                fps=heartbeat.get("fps"),
                queue_depth=heartbeat.get("queue_depth"),
                evicted=heartbeat.get("evicted"),
                cameras={
                    name: camera.get("state", "?")
                    for name, camera in heartbeat.get("cameras", {}).items()
                },
                camera_names={
                    name: camera["name"]
                    for name, camera in heartbeat.get("cameras", {}).items()
                    if camera.get("name")
                },
            )
        )
    dropped = [
        w.broker["messages_dropped"] for w in workers if w.alive and "messages_dropped" in w.broker
    ]
    partitions = sorted(p.decode() for p in client.smembers(partitions_key(events_stream)))
    events = [in_partition(events_stream, p) for p in partitions] or [events_stream]
    return HealthReport(
        workers=workers,
        streams=[
            *(_stream(client, name, now_ms, reasons=False) for name in events),
            _stream(client, deadletter_stream, now_ms, reasons=True),
        ],
        edges=edges,
        broker_dropped=max(dropped) if dropped else None,
    )
