"""A NATS cluster of the test's own on loopback: `nats-server` nodes joined by routes, each
with JetStream and the MQTT front on (MQTT 3.1.1 on JetStream, replicated over the nodes).

Usage::

    with running_nats(tmp_path / "nats", nodes=3) as cluster:
        cluster.mqtt_ports        # where edge boxes connect, one per node
        cluster.client_urls       # nats://… for ingest's JetStream consumer
        cluster.kill(1)           # SIGKILL node 1; `start(1)` brings it back
"""

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.mosquitto import free_port, port_open


class NatsNode:
    """One `nats-server` process; keeps its ports and store across restarts."""

    def __init__(self, directory: Path, name: str, cluster_port: int, routes: list[int]) -> None:
        self.directory = directory
        self.name = name
        self.port = free_port()
        self.mqtt_port = free_port()
        self.monitor_port = free_port()
        self.cluster_port = cluster_port
        self.routes = routes
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.directory / "nats.conf"

    @property
    def log(self) -> Path:
        return self.directory / "nats.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _write_config(self) -> None:
        routes = ", ".join(f"nats-route://127.0.0.1:{port}" for port in self.routes)
        cluster = (
            f"cluster {{ name: shouwang, listen: 127.0.0.1:{self.cluster_port}, "
            f"routes: [{routes}] }}"
            if len(self.routes) > 1
            else ""
        )
        self.config.write_text(
            f"server_name: {self.name}\n"
            f"listen: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f"jetstream {{ store_dir: {self.directory / 'jetstream'}, "
            "max_memory_store: 256MB, max_file_store: 4GB }\n"
            f"{cluster}\n"
            f"mqtt {{ listen: 127.0.0.1:{self.mqtt_port}, ack_wait: 30s, "
            "max_ack_pending: 1000 }\n"
        )

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until the MQTT and NATS ports accept connections."""
        if self.running:
            return
        binary = shutil.which("nats-server")
        if binary is None:
            pytest.skip("nats-server is not installed (apt-get install nats-server)")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config), "-l", str(self.log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if port_open(self.port) and port_open(self.mqtt_port):
                return
            time.sleep(0.05)
        self.kill()
        log = self.log.read_text(errors="replace") if self.log.exists() else ""
        raise RuntimeError(f"nats-server {self.name} did not start:\n{log[-3000:]}")

    def kill(self) -> None:
        """SIGKILL, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """SIGTERM: a clean stop."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


class NatsCluster:
    """`nodes` NATS servers clustered by routes (one node: no cluster block)."""

    def __init__(self, directory: Path, nodes: int = 3) -> None:
        ports = [free_port() for _ in range(nodes)]
        self.nodes = [
            NatsNode(directory / f"n{index}", f"n{index}", port, ports)
            for index, port in enumerate(ports)
        ]

    @property
    def client_urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{node.port}" for node in self.nodes]

    @property
    def mqtt_ports(self) -> list[int]:
        return [node.mqtt_port for node in self.nodes]

    def start_all(self) -> None:
        for node in self.nodes:
            node.start()

    def kill(self, index: int) -> None:
        self.nodes[index].kill()

    def start(self, index: int) -> None:
        self.nodes[index].start()

    def stop_all(self) -> None:
        for node in self.nodes:
            node.stop()


@contextmanager
def running_nats(directory: Path, nodes: int = 3) -> Iterator[NatsCluster]:
    """A started NATS cluster (JetStream and MQTT on every node) for the block."""
    cluster = NatsCluster(directory, nodes)
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop_all()
