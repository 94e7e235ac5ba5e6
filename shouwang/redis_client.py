"""Connecting to Redis or a Redis Cluster, and waiting for replicas to have a write."""

import contextlib
from typing import Any

import redis
from redis.cluster import RedisCluster

from shouwang.settings import RedisSettings

CLUSTER_OUTAGE: tuple[type[Exception], ...] = (
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
    redis.exceptions.SlotNotCoveredError,
)
"""Redis Cluster errors that say a failover or a slot move is under way: wait and retry."""


def connect(settings: RedisSettings, **options: Any) -> redis.Redis:
    """A client of the configured Redis, or of the whole cluster with `settings.cluster`."""
    if settings.cluster:
        return RedisCluster.from_url(settings.url, **options)
    return redis.Redis.from_url(settings.url, **options)


def is_cluster(client: Any) -> bool:
    """Whether `client` (or the pipeline) talks to a Redis Cluster."""
    return isinstance(client, RedisCluster)


def refresh(client: Any) -> None:
    """After an error, let a cluster client learn the cluster's layout again (a failover
    moved slots to a replica); nothing for a single Redis. Errors are left to the retry."""
    if is_cluster(client):
        with contextlib.suppress(redis.RedisError, redis.exceptions.RedisClusterException):
            client.nodes_manager.initialize()


def queue_wait(pipe: Any, client: redis.Redis, key: str, replicas: int, timeout_ms: int) -> bool:
    """Queue `WAIT replicas timeout_ms` on `pipe` after the writes queued for `key`'s node, so
    its reply says how many replicas have them; whether anything was queued (`replicas` 0:
    no). In a cluster the WAIT goes to the master serving `key`, on the pipeline's connection
    to it (WAIT counts only writes made on its own connection)."""
    if not replicas:
        return False
    if is_cluster(client):
        node = client.get_node_from_key(key)
        pipe.execute_command("WAIT", replicas, timeout_ms, target_nodes=node)
    else:
        pipe.execute_command("WAIT", replicas, timeout_ms)
    return True
