"""A Mosquitto broker of the test's own on a free port, restartable to simulate outages.

Usage in a test module::

    @pytest.fixture(scope="module")
    def broker(tmp_path_factory) -> Iterator[Mosquitto]:
        with running_mosquitto(tmp_path_factory.mktemp("mosquitto")) as broker:
            yield broker
"""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def mosquitto_binary() -> str | None:
    """Path of the mosquitto executable (Debian installs it in /usr/sbin), or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """True if something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Mosquitto:
    """One Mosquitto process; `stop()` and `start()` again keep the same port.

    With `persistence=True` subscriptions and queued QoS 1 messages of durable sessions survive
    a clean stop (SIGTERM), like a production broker. `extra` is appended to the configuration,
    after the single `listener` line, so listener options such as `certfile` apply to it.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        directory: Path,
        *,
        persistence: bool = False,
        allow_anonymous: bool = True,
        extra: str = "",
        tuning: Path | None = None,
        queue_limit: int | None = 100_000,
    ) -> None:
        binary = mosquitto_binary()
        if binary is None:
            pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
        self.binary = binary
        self.directory = directory
        self.persistence = persistence
        self.allow_anonymous = allow_anonymous
        self.extra = extra
        self.tuning = tuning
        self.queue_limit = queue_limit
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.directory / "mosquitto.conf"

    @property
    def log(self) -> Path:
        return self.directory / "mosquitto.log"

    def _write_config(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            f"persistence_location {self.directory}/",
            f"log_dest file {self.log}",
        ]
        if self.tuning is not None:  # the tuning sets persistence and queue limits itself
            lines.append(f"include_dir {self.tuning}")
        else:
            lines.append(f"persistence {'true' if self.persistence else 'false'}")
            if self.queue_limit is not None:  # None: Mosquitto's stock limit (1000)
                lines.append(f"max_queued_messages {self.queue_limit}")
        if os.geteuid() == 0:
            lines.append("user root")
        self.config.write_text("\n".join(lines) + "\n" + self.extra)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        """Start and wait until the port accepts connections."""
        if self.running:
            return
        self._write_config()
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if port_open(self.port):
                return
            time.sleep(0.02)
        self.process.kill()
        _, err = self.process.communicate()
        log = self.log.read_text(errors="replace") if self.log.exists() else ""
        raise RuntimeError(f"mosquitto did not start on port {self.port}: {err!r}\n{log}")

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.stop()

    def stop(self) -> None:
        """Stop cleanly (SIGTERM); with persistence, state is saved first."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
        deadline = time.monotonic() + 5
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.02)


REPO = Path(__file__).resolve().parents[2]
PROJECT_TUNING = REPO / "configs" / "mosquitto" / "conf.d"
"""The project's broker tuning (queue limits, persistence), included by `tuned` brokers."""


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")
        time.sleep(0.05)


@contextmanager
def running_mosquitto(
    directory: Path, *, persistence: bool = False, tuned: bool = False, extra: str = ""
) -> Iterator[Mosquitto]:
    """A started Mosquitto for the duration of the block; `tuned` uses the project's tuning."""
    broker = Mosquitto(
        directory, persistence=persistence, tuning=PROJECT_TUNING if tuned else None, extra=extra
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
