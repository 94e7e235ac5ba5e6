"""The GB/T 28181 gateway on a thread of the test, sipp as the device, helpers to read what
ingest stored."""

import asyncio
import json
import random
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

from cameras.config import CamerasSettings
from cameras.devices import read_devices
from cameras.gb28181.server import Gb28181Server
from cameras.publisher import WirePublisher

SIPP = "/usr/bin/sipp"
SCENARIOS = Path(__file__).parent / "sipp"
DOMAIN = "5206030000"
SERVER_ID = "52060300002000000001"


def device_code(kind: str = "132") -> str:
    """A random 20-digit code in Tongren's Bijiang district (5206 03), of a type (132 IPC,
    118 NVR, 131 camera channel)."""
    return f"{DOMAIN}{kind}{random.randrange(10**7):07d}"


class GatewayThread:
    """`Gb28181Server` with its own event loop on a thread, started and stopped by the test."""

    def __init__(self, settings: CamerasSettings, worker: str = "test") -> None:
        self.settings = settings
        self.worker = worker
        self.loop = asyncio.new_event_loop()
        self.server: Gb28181Server | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="gb28181", daemon=True)

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    def start(self) -> "GatewayThread":
        self.thread.start()
        if not self._ready.wait(15) or self._error is not None:
            raise RuntimeError(f"gateway did not start: {self._error}")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(15)

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine on the gateway's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(15)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        client = aioredis.Redis.from_url(self.settings.redis.url)
        publisher = WirePublisher(self.settings.mqtt, f"test-gb-{self.worker}")
        publisher.start()
        self._stop = asyncio.Event()
        try:
            devices = read_devices(self.settings)
            self.server = Gb28181Server(self.settings, devices, client, publisher, self.worker)
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            raise
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.stop()
            publisher.stop()
            await client.aclose()


def sipp(
    scenario: str,
    gateway_port: int,
    device: str,
    *,
    local_port: int,
    password: str = "",
    transport: str = "u1",
    calls: int = 1,
    rate: float = 10,
    limit: int | None = None,
    inf: Path | None = None,
    answers: str | None = "answer_requests.xml",
    keys: dict[str, str | bytes] | None = None,
    trace: Path | None = None,
    timeout_s: float = 30,
) -> subprocess.CompletedProcess[bytes]:
    """Run sipp as the device `device` against the gateway; returns the finished process."""
    args: list[str | bytes] = [
        SIPP,
        f"127.0.0.1:{gateway_port}",
        "-sf",
        str(SCENARIOS / scenario),
        "-i",
        "127.0.0.1",
        "-p",
        str(local_port),
        "-t",
        transport,
        "-s",
        device,
        "-m",
        str(calls),
        "-r",
        str(rate),
        "-timeout",
        f"{timeout_s:.0f}s",
        "-timeout_error",
        "-nostdin",
        "-key",
        "domain",
        DOMAIN,
        "-key",
        "server_id",
        SERVER_ID,
        "-key",
        "expires",
        "3600",
    ]
    if password:
        args += ["-au", device, "-ap", password]
    if limit is not None:
        args += ["-l", str(limit)]
    if inf is not None:
        args += ["-inf", str(inf)]
    if answers is not None:
        args += ["-oocsf", str(SCENARIOS / answers)]
    for name, value in (keys or {}).items():
        args += ["-key", name, value]
    if trace is not None:
        args += ["-trace_msg", "-message_file", str(trace)]
    return subprocess.run(
        args,
        capture_output=True,
        timeout=timeout_s + 30,
        cwd=str(trace.parent if trace else "/tmp"),
    )


def csv_of(bodies: list[bytes]) -> bytes:
    """A sipp injection file: one body per line (field0), read in order."""
    return b"SEQUENTIAL\n" + b"".join(
        body.replace(b"\r\n", b"").replace(b"\n", b"") + b"\n" for body in bodies
    )


def stream_payloads(client: redis.Redis, stream: str) -> list[dict[str, Any]]:
    """Every stored message's fields and payload (decoded JSON)."""
    entries = []
    for _, fields in client.xrange(stream):
        entry = dict(fields)
        if "payload" in entry:
            entry["payload"] = json.loads(entry["payload"])
        entries.append(entry)
    return entries


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    """The condition's first truthy value, or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")
