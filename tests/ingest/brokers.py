"""Start private Mosquitto brokers for tests: stock settings or the project's tuning."""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TUNING_DIR = REPO / "configs" / "mosquitto" / "conf.d"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Mosquitto:
    """A Mosquitto process of the test's own, restartable on the same port and data."""

    directory: Path
    tuned: bool
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.directory / "mosquitto.conf"

    def write_config(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            f"persistence_location {self.directory}/",
            f"log_dest file {self.directory}/mosquitto.log",
        ]
        if os.geteuid() == 0:
            lines.append("user root")
        if self.tuned:
            lines.append(f"include_dir {TUNING_DIR}")
        else:
            lines.append("persistence true")
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        self.write_config()
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.process.kill()
            _, err = self.process.communicate()
            raise RuntimeError(f"mosquitto did not start: {err.decode(errors='replace')}") from None

    def stop(self) -> None:
        """Stop cleanly (SIGTERM): Mosquitto saves its state before exiting."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def private_mosquitto(directory: Path, *, tuned: bool = True) -> Iterator[Mosquitto]:
    """Run a Mosquitto of the test's own for the duration of the block."""
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto binary not installed (apt-get install mosquitto)")
    broker = Mosquitto(directory=directory, tuned=tuned)
    broker.start()
    try:
        yield broker
    finally:
        broker.kill()
