"""A real Redis Cluster of the test's own on loopback: 3 masters, each with a replica.

Usage::

    with running_cluster(tmp_path / "cluster") as cluster:
        client = RedisCluster.from_url(cluster.url)
        node = cluster.master_of("shouwang:events:{bijiang}")
        cluster.kill(node)                  # SIGKILL; its replica takes over
        cluster.wait_failover(node)         # until a replica serves its slots
        cluster.start(node)                 # back, as a replica of the new master

Nodes run with AOF (`appendfsync everysec`) and `cluster-node-timeout` 1 s, so a failover
takes a few seconds.
"""

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.helpers.redis_server import RedisServer

NODE_TIMEOUT_MS = 1000


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_port() -> int:
    """A free port whose cluster-bus port (+10000) is free too."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + 10000 <= 65535 and _bindable(port + 10000):
            return port
        candidate = port % 45000 + 10000  # below 55536, so the bus port fits
        if _bindable(candidate) and _bindable(candidate + 10000):
            return candidate
    raise RuntimeError("no free port pair for a cluster node")


class RedisClusterNodes:
    """Six `redis-server --cluster-enabled yes` processes joined into one cluster."""

    def __init__(self, directory: Path, *, masters: int = 3, replicas: int = 1) -> None:
        if shutil.which("redis-cli") is None:
            pytest.skip("redis-cli is not installed (apt-get install redis-tools)")
        self.directory = directory
        self.replicas = replicas
        self.nodes = [
            RedisServer(
                directory / f"node-{index}",
                port=cluster_port(),
                extra=[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(directory / f"node-{index}" / "nodes.conf"),
                    "--cluster-node-timeout",
                    str(NODE_TIMEOUT_MS),
                    "--cluster-replica-validity-factor",
                    "0",
                ],
            )
            for index in range(masters * (1 + replicas))
        ]

    @property
    def url(self) -> str:
        """A URL of one running node (the client discovers the rest)."""
        node = next(n for n in self.nodes if n.running)
        return f"redis://{node.host}:{node.port}/0"

    def create(self, timeout: float = 60.0) -> None:
        """Start the nodes, join them (`redis-cli --cluster create`) and wait until every node
        says the cluster is ok."""
        for node in self.nodes:
            node.start()
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"{n.host}:{n.port}" for n in self.nodes),
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        self.wait_ok(timeout)

    def _client(self, node: RedisServer) -> redis.Redis:
        return redis.Redis(host=node.host, port=node.port, socket_timeout=2, decode_responses=True)

    def wait_ok(self, timeout: float = 60.0) -> None:
        """Until every running node reports `cluster_state:ok` with every slot served, and
        every replica is in sync with its master."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._ok(node) for node in self.nodes if node.running):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not become ok in time")

    def _ok(self, node: RedisServer) -> bool:
        client = self._client(node)
        try:
            info = client.cluster("info")
            slots = client.cluster("slots")
            replication = client.info("replication")
        except redis.RedisError:
            return False
        finally:
            client.close()
        covered = sum(int(end) - int(start) + 1 for start, end, *_ in slots)
        synced = replication["role"] == "master" or replication.get("master_link_status") == "up"
        return info.get("cluster_state") == "ok" and covered == 16384 and synced

    def masters(self) -> list[RedisServer]:
        """The running nodes that are masters now."""
        found = []
        for node in self.nodes:
            if not node.running:
                continue
            client = self._client(node)
            try:
                if client.info("replication")["role"] == "master":
                    found.append(node)
            except redis.RedisError:
                pass
            finally:
                client.close()
        return found

    def master_of(self, key: str) -> RedisServer:
        """The node serving `key`'s hash slot now."""
        for node in self.masters():
            client = self._client(node)
            try:
                slot = int(client.cluster("keyslot", key))
                for start, end, master, *_ in client.cluster("slots"):
                    if int(start) <= slot <= int(end) and int(master[1]) == node.port:
                        return node
            finally:
                client.close()
        raise LookupError(f"no master serves {key!r}")

    def kill(self, node: RedisServer) -> None:
        """SIGKILL one node."""
        node.kill()

    def wait_failover(self, dead: RedisServer, timeout: float = 60.0) -> None:
        """Until a replica has taken over the dead master's slots and the cluster is ok."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._ok(n) and not self._serves(n, dead) for n in self.nodes if n.running):
                return
            time.sleep(0.1)
        raise RuntimeError(f"no replica took over from node {dead.port} in time")

    def _serves(self, node: RedisServer, master: RedisServer) -> bool:
        """Whether `node` believes `master` serves slots."""
        client = self._client(node)
        try:
            return any(int(m[1]) == master.port for _, _, m, *_ in client.cluster("slots"))
        except redis.RedisError:
            return True
        finally:
            client.close()

    def start(self, node: RedisServer, timeout: float = 60.0) -> None:
        """Start a stopped node again (it rejoins, as a replica if it was replaced)."""
        node.start()
        self.wait_ok(timeout)

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            node.kill()


@contextmanager
def running_cluster(directory: Path, *, masters: int = 3) -> Iterator[RedisClusterNodes]:
    """A created cluster of `masters` masters with one replica each, for the block."""
    cluster = RedisClusterNodes(directory, masters=masters)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.stop()
