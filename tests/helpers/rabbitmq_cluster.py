"""A RabbitMQ cluster of our own on loopback (never the machine's shared node): nodes
`<name>@localhost` on free ports with the MQTT plugin, MQTT subscriptions as quorum queues,
joined with `rabbitmqctl join_cluster`. Slow to start (tens of seconds a node), so only the
broker benchmark uses it.

The Debian `rabbitmq-server` runs the node as the `rabbitmq` user, so its directory is made
that user's; the nodes share that user's Erlang cookie, as the machine's node does, and take
names of their own so they never join it.
"""

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.helpers.mosquitto import free_port, port_open


class RabbitNode:
    """One RabbitMQ node with AMQP and MQTT listeners on free ports."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = f"{name}@localhost"
        self.amqp_port = free_port()
        self.dist_port = free_port()
        self.mqtt_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def _environment(self) -> dict[str, str]:
        d = self.directory
        return os.environ | {
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_MNESIA_DIR": str(d / "mnesia" / self.name),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(d / "feature_flags"),
            "RABBITMQ_PID_FILE": str(d / "pid"),
        }

    def start(self) -> None:
        """Start the node (returns at once; `wait` until it listens)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}\n"
            f"mqtt.listeners.tcp.default = 127.0.0.1:{self.mqtt_port}\n"
            "mqtt.allow_anonymous = true\n"
            "mqtt.durable_queue_type = quorum\n"
            "loopback_users = none\n"
        )
        (self.directory / "enabled_plugins").write_text("[rabbitmq_mqtt].\n")
        shutil.chown(self.directory, "rabbitmq", "rabbitmq")
        for path in self.directory.iterdir():
            shutil.chown(path, "rabbitmq", "rabbitmq")
        self.process = subprocess.Popen(
            ["rabbitmq-server"],
            env=self._environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port_open(self.amqp_port) and port_open(self.mqtt_port):
                return
            time.sleep(0.5)
        raise RuntimeError(f"RabbitMQ node {self.name} did not start in {timeout:g} s")

    def ctl(self, *args: str, timeout: float = 120.0) -> None:
        subprocess.run(
            ["rabbitmqctl", "-n", self.name, *args],
            env=self._environment(),
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def kill(self) -> None:
        """SIGKILL the node's Erlang VM and the script around it."""
        pid_file = self.directory / "pid"
        if pid_file.exists():
            with suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        if self.process is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
            self.process = None


class RabbitCluster:
    """`nodes` RabbitMQ nodes joined into one cluster."""

    def __init__(self, directory: Path, nodes: int = 3) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for parent in (directory, *directory.parents):
            if parent == Path("/"):
                break
            parent.chmod(parent.stat().st_mode | 0o055)  # the rabbitmq user walks down to it
        prefix = f"sw{uuid.uuid4().hex[:6]}"
        self.nodes = [RabbitNode(directory / f"r{i}", f"{prefix}r{i}") for i in range(nodes)]

    @property
    def mqtt_ports(self) -> list[int]:
        return [node.mqtt_port for node in self.nodes]

    @property
    def amqp_ports(self) -> list[int]:
        return [node.amqp_port for node in self.nodes]

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.wait()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.name)
            node.ctl("start_app")
            node.wait()

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


@contextmanager
def running_rabbitmq(directory: Path, nodes: int = 3) -> Iterator[RabbitCluster]:
    cluster = RabbitCluster(directory, nodes)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
