"""GB/T 28181 gateway under sipp load: alarms per second from SIP MESSAGE into the events
stream (the gateway waits for the broker's PUBACK before each 200 OK, ingest stores), next to
a bare SIP responder (the same SIP parsing, 200 OK at once, nothing else) driven by the same
sipp load in the same run; and how fast 10,000 devices register (digest, two round trips each,
from an asyncio client here: sipp's [authentication] cannot take a user per call).

    python -m benchmarks.gb28181_throughput [--alarms 5000] [--devices 10000]
"""

import argparse
import asyncio
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from cameras.sip.digest import expected_response
from cameras.sip.message import parse, response
from tests.cameras.conftest import Names, gateway_settings
from tests.cameras.gateway import DOMAIN, SERVER_ID, GatewayThread, csv_of, device_code, sipp
from tests.cameras.test_gb28181_sipp import alarm_body
from tests.helpers.mosquitto import free_port, running_mosquitto
from tests.ingest.conftest import make_settings, running_worker

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Result:
    alarms: int
    gateway_rate: float
    """Alarms/s from the first MESSAGE sent to the last event in the stream."""
    bare_rate: float
    """MESSAGEs/s answered by the bare responder under the same sipp load."""
    devices: int
    register_rate: float
    """Devices/s registered (401, REGISTER with digest, 200 and the online status stored)."""
    stored: int
    registered: int


class BareResponder:
    """Answers every SIP request with 200 OK: the floor the gateway is compared with."""

    def __init__(self) -> None:
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.answered = 0
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "BareResponder":
        self.thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: Any) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self) -> None:
        owner = self

        class Protocol(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: Any) -> None:
                request = parse(data)
                if request.is_request:
                    reply = response(request, 200, to_tag="bare")
                    self.transport.sendto(bytes(reply), addr)  # type: ignore[attr-defined]
                    owner.answered += 1

        asyncio.set_event_loop(self.loop)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.bind(("127.0.0.1", self.port))
        self.loop.run_until_complete(self.loop.create_datagram_endpoint(Protocol, sock=sock))
        self._ready.set()
        self.loop.run_forever()


def _load(
    target_port: int, device: str, inf: Path, calls: int, local_port: int, folder: Path
) -> float:
    started = time.monotonic()
    done = sipp(
        "alarm.xml",
        target_port,
        device,
        local_port=local_port,
        calls=calls,
        rate=20_000,
        inf=inf,
        timeout_s=300,
        trace=folder / "sipp.log",
        limit=200,
    )
    if done.returncode != 0:
        raise RuntimeError(f"sipp failed: {done.stderr.decode(errors='replace')[-500:]}")
    return time.monotonic() - started


def run(alarms: int, devices: int, say: Callable[[str], None] = print) -> Result:
    """Measure both figures with a private tuned broker, an ingest worker and Redis."""
    uid = uuid.uuid4().hex[:10]
    ns = Names(
        uid, f"b{uid}", f"bench:{uid}:events", f"bench:{uid}:dead", f"g{uid}", f"bench:{uid}:gb"
    )
    client = redis.Redis.from_url(REDIS_URL)
    with (
        tempfile.TemporaryDirectory() as name,
        running_mosquitto(Path(name) / "broker", tuned=True) as broker,
    ):
        folder = Path(name)
        ingest = make_settings(ns, folder / "snapshots", port=broker.port)
        codes = [device_code("132") for _ in range(devices)]
        table = [{"id": code, "site": ns.site} for code in codes]
        settings = gateway_settings(
            ns,
            table,
            mqtt_port=broker.port,
            password="bench-pw",
            keepalive_interval_s=3600,
            reset_device_alarms=False,
        )
        try:
            with running_worker(ingest):
                gateway = GatewayThread(settings, worker=uid).start()
                try:
                    return _measure(gateway, client, ns, codes, alarms, folder, say)
                finally:
                    gateway.stop()
        finally:
            keys = list(client.scan_iter(f"bench:{uid}:*"))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start : start + 1000])


def _measure(
    gateway: GatewayThread,
    client: redis.Redis,
    ns: Names,
    codes: list[str],
    alarms: int,
    folder: Path,
    say: Callable[[str], None],
) -> Result:
    say(f"gb28181: {len(codes):,} devices register …")
    started = time.monotonic()
    asyncio.run(register_all(gateway.port, codes, "bench-pw", concurrency=200))
    registered = _wait_count(client, ns.stream, len(codes), 120)
    register_s = time.monotonic() - started
    device, port = codes[0], free_port()
    bodies = [alarm_body(device, sn, 5, 6, "GB2312") for sn in range(1, alarms + 1)]
    inf = folder / "alarms.csv"
    inf.write_bytes(csv_of(bodies))
    say(f"gb28181: {alarms:,} alarms through the gateway, then the same to a bare responder …")
    before = client.xlen(ns.stream)
    started = time.monotonic()
    _load(gateway.port, device, inf, alarms, port, folder)
    stored = _wait_count(client, ns.stream, before + alarms, 120) - before
    gateway_s = time.monotonic() - started
    with BareResponder() as bare:
        bare_s = _load(bare.port, device, inf, alarms, free_port(), folder)
    return Result(
        alarms=alarms,
        gateway_rate=stored / gateway_s,
        bare_rate=alarms / bare_s,
        devices=len(codes),
        register_rate=registered / register_s,
        stored=stored,
        registered=registered,
    )


async def register_all(port: int, codes: list[str], password: str, concurrency: int) -> None:
    """Register every device as a device would (REGISTER, 401, REGISTER with digest, 200),
    `concurrency` at a time, from one UDP socket; resends after 0.5 s like SIP timer E."""
    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future[bytes]] = {}

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            answer = parse(data)
            future = waiting.get(f"{answer.call_id}/{answer.cseq[0]}")
            if future is not None and not future.done():
                future.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Client, local_addr=("127.0.0.1", 0))
    local = transport.get_extra_info("sockname")[1]
    gate = asyncio.Semaphore(concurrency)

    async def exchange(call_id: str, cseq: int, data: bytes) -> bytes:
        future: asyncio.Future[bytes] = loop.create_future()
        waiting[f"{call_id}/{cseq}"] = future
        try:
            for wait in (0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0):
                transport.sendto(data, ("127.0.0.1", port))
                try:
                    return await asyncio.wait_for(asyncio.shield(future), wait)
                except TimeoutError:
                    continue
            raise RuntimeError(f"no answer to {call_id}")
        finally:
            waiting.pop(f"{call_id}/{cseq}", None)

    async def register(code: str) -> None:
        async with gate:
            call_id = uuid.uuid4().hex
            uri = f"sip:{SERVER_ID}@{DOMAIN}"

            def message(cseq: int, auth: str = "") -> bytes:
                return (
                    f"REGISTER {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};rport;"
                    f"branch=z9hG4bK{call_id}{cseq}\r\nFrom: <sip:{code}@{DOMAIN}>;tag=t{cseq}\r\n"
                    f"To: <sip:{code}@{DOMAIN}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} REGISTER"
                    f"\r\nContact: <sip:{code}@127.0.0.1:{local}>\r\nExpires: 3600\r\n{auth}"
                    "Content-Length: 0\r\n\r\n"
                ).encode()

            challenge = parse(await exchange(call_id, 1, message(1)))
            nonce = (challenge.get("WWW-Authenticate") or "").split('nonce="')[1].split('"')[0]
            answer = expected_response(
                "MD5",
                username=code,
                realm=DOMAIN,
                password=password,
                method="REGISTER",
                uri=uri,
                nonce=nonce,
            )
            auth = (
                f'Authorization: Digest username="{code}", realm="{DOMAIN}", nonce="{nonce}", '
                f'uri="{uri}", response="{answer}", algorithm=MD5\r\n'
            )
            done = parse(await exchange(call_id, 2, message(2, auth)))
            if done.code != 200:
                raise RuntimeError(f"{code}: {done.code} {done.phrase}")

    try:
        await asyncio.gather(*(register(code) for code in codes))
    finally:
        transport.close()


def _wait_count(client: redis.Redis, stream: str, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        length = int(client.xlen(stream))
        if length >= count:
            return length
        time.sleep(0.02)
    return int(client.xlen(stream))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=5000)
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args()
    result = run(args.alarms, args.devices)
    print(
        f"alarms: gateway {result.gateway_rate:,.0f}/s ({result.stored:,}/{result.alarms:,} "
        f"stored), bare SIP responder {result.bare_rate:,.0f}/s, ratio "
        f"{result.gateway_rate / result.bare_rate:.2f}\n"
        f"registration: {result.registered:,}/{result.devices:,} devices at "
        f"{result.register_rate:,.0f}/s ({result.devices / result.register_rate:.1f} s)"
    )


if __name__ == "__main__":
    main()
