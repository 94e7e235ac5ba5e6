"""A Redis server of the test's own on a free port, with AOF on, restartable to inject outages.

Usage::

    with running_redis(tmp_path / "redis") as server:
        client = redis.Redis.from_url(server.url)
        server.restart()          # SIGTERM (Redis fsyncs the AOF and exits), then start again
        server.kill()             # SIGKILL: a crash; `start()` brings it back from the AOF
"""

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.helpers.mosquitto import free_port


class RedisServer:
    """One `redis-server` process with its own directory; keeps its port across restarts.

    `appendfsync` is the AOF policy (`everysec` as in production, `always`, `no`).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        directory: Path,
        *,
        appendfsync: str = "everysec",
        port: int | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.directory = directory
        self.appendfsync = appendfsync
        self.port = port or free_port()
        self.extra = list(extra)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.directory / "redis.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until Redis answers PING (after loading its AOF)."""
        if self.running:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                self.host,
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                self.appendfsync,
                "--save",
                "",
                "--logfile",
                str(self.log),
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.starts += 1
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    pass
                time.sleep(0.02)
        finally:
            client.close()
        self.kill()
        log = self.log.read_text(errors="replace") if self.log.exists() else ""
        raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log[-3000:]}")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop cleanly (SIGTERM): Redis fsyncs the AOF before it exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as in a crash of the process (not of the machine)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        """A clean restart: SIGTERM, then start again on the same port and AOF."""
        self.stop()
        self.start()


@contextmanager
def running_redis(directory: Path, *, appendfsync: str = "everysec") -> Iterator[RedisServer]:
    """A started private Redis (AOF on) for the duration of the block."""
    server = RedisServer(directory, appendfsync=appendfsync)
    server.start()
    try:
        yield server
    finally:
        server.stop()
