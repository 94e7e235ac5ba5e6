"""Connecting to Redis or a Redis Cluster, and waiting for replicas to have a write."""

import contextlib
from typing import Any

import redis
from redis.cluster import ClusterNode, RedisCluster
from redis.commands.core import Script

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
        nodes = [ClusterNode(*_host_port(node)) for node in settings.cluster_nodes]
        return RedisCluster.from_url(settings.url, startup_nodes=nodes or None, **options)
    return redis.Redis.from_url(settings.url, **options)


def _host_port(node: str) -> tuple[str, int]:
    host, _, port = node.rpartition(":")
    return host or "127.0.0.1", int(port)


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


def queue_script(pipe: Any, script: Script, keys: list[Any], args: list[Any]) -> None:
    """Queue a loaded script by its SHA (a pipeline would otherwise ask Redis first whether it
    knows the script, a round trip each time). As a plain command: redis-py's cluster pipeline
    has no `evalsha` method, yet routes the command by its keys."""
    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)


def run_scripts(
    client: redis.Redis, script: Script, calls: list[tuple[list[Any], list[Any]]]
) -> list[Any]:
    """Run a Lua script for each (keys, args) in one round trip. A pipeline would first ask
    whether the script is loaded (another round trip, every time); this loads it only when
    Redis says it does not know it (a restart), then runs the batch again (the scripts here
    give the same answer for the same call)."""
    for attempt in (1, 2):
        pipe = client.pipeline(transaction=False)
        for keys, args in calls:
            queue_script(pipe, script, keys, args)
        try:
            return list(pipe.execute())
        except redis.exceptions.NoScriptError:
            if attempt == 2:
                raise
            script.sha = client.script_load(script.script)
    raise AssertionError("unreachable")
