"""`shouwang gb28181`: the SIP server shell around `Gb28181Core`.

Per request: answer retransmissions from a cache, load the device's registration from Redis,
let the core decide, publish what it says (waiting for the broker's PUBACK), dead-letter,
store, answer, then send the core's requests to the device (retransmitted over UDP until
answered). A sweeper claims devices past their keepalive or registration deadline.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from cameras.config import CamerasSettings
from cameras.devices import DeviceTable
from cameras.gb28181.core import DeviceRequest, Gb28181Core, Outcome
from cameras.gb28181.manscdp import CONTENT_TYPE
from cameras.gb28181.registration import Registration
from cameras.gb28181.store import RegistrationStore
from cameras.publisher import DeadLetters, NotDelivered, WirePublisher
from cameras.sip.digest import DigestRealm
from cameras.sip.message import (
    Message,
    Peer,
    SipError,
    Uri,
    new_tag,
    parse,
    request,
    transaction_key,
)
from cameras.sip.transport import SipTransport
from cameras.wire import DeadLetter

log = structlog.get_logger("shouwang.cameras.gb28181")

RETRANSMIT_S = (0.5, 1.0, 2.0, 4.0, 4.0, 4.0)
"""Resend intervals of the gateway's own requests over UDP (RFC 3261 timer E, capped)."""
ANSWERED_KEEP_S = 32.0
"""How long an answer is kept for retransmissions of its request (timer J)."""
IN_FLIGHT = 64
"""Requests handled at once; more wait their turn (within the Redis client's pool of 100)."""


@dataclass(slots=True)
class _Pending:
    peer: Peer
    data: bytes
    answered: asyncio.Event


class Metrics:
    """Prometheus counters of the gateway."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shouwang_gb28181_requests",
            "SIP requests by method and answer",
            ["method", "code"],
            registry=self.registry,
        )
        self.published = Counter(
            "shouwang_gb28181_published",
            "Wire messages published",
            ["kind"],
            registry=self.registry,
        )
        self.dead = Counter(
            "shouwang_gb28181_deadlettered",
            "Dead letters by reason",
            ["reason"],
            registry=self.registry,
        )
        self.undelivered = Counter(
            "shouwang_gb28181_undelivered",
            "Requests left unanswered: the broker did not ack",
            registry=self.registry,
        )
        self.offline = Counter(
            "shouwang_gb28181_offline", "Devices found offline", registry=self.registry
        )
        self.registered = Gauge(
            "shouwang_gb28181_devices_known", "Rows in the device table", registry=self.registry
        )


class Gb28181Server:
    """One gateway process: SIP sockets, the core, Redis and the broker."""

    def __init__(
        self,
        settings: CamerasSettings,
        devices: DeviceTable,
        redis_client: aioredis.Redis,
        publisher: WirePublisher,
        worker_id: str,
    ) -> None:
        self.settings = settings
        self.gb = settings.gb28181
        self.devices = devices
        self.store = RegistrationStore(redis_client, self.gb.state_prefix)
        self.dead_letters = DeadLetters(redis_client, worker_id, self.gb.deadletter_stream)
        self.publisher = publisher
        self.worker_id = worker_id
        self.metrics = Metrics()
        self.transport = SipTransport(self._received, self._closed)
        self.core: Gb28181Core | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._answered: dict[str, tuple[float, bytes | None]] = {}
        self._pending: dict[str, _Pending] = {}
        self._tcp_devices: dict[tuple[str, int], str] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = asyncio.Semaphore(IN_FLIGHT)

    @property
    def port(self) -> int:
        return self.transport.port

    async def start(self) -> None:
        """Bind the sockets and start the sweeper."""
        secret = (
            self.gb.nonce_secret.get_secret_value().encode()
            if self.gb.nonce_secret
            else await self.store.nonce_secret()
        )
        realm = DigestRealm(self.gb.domain, secret, algorithm=self.gb.digest_algorithm)
        self.core = Gb28181Core(self.gb, self.devices, realm, new_tag())
        await self.transport.start(self.gb.host, self.gb.port, list(self.gb.transports))
        self.metrics.registered.set(len(self.devices))
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())
        log.info(
            "gb28181.listening",
            port=self.port,
            transports=self.gb.transports,
            devices=len(self.devices),
            server_id=self.gb.server_id,
        )

    async def stop(self) -> None:
        """Stop the sweeper and close the sockets."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        for task in list(self._tasks):
            task.cancel()
        await self.transport.stop()

    def replace_devices(self, devices: DeviceTable) -> None:
        """Use a newly read device table."""
        self.devices = devices
        if self.core is not None:
            self.core.devices = devices
        self.metrics.registered.set(len(devices))

    # -- incoming -------------------------------------------------------------------------

    async def _received(self, data: bytes, peer: Peer) -> None:
        now = time.time()
        try:
            message = parse(data)
        except SipError as exc:
            source = f"gb28181/{peer.host}:{peer.port}/?"
            await self._dead([DeadLetter(source, "bad_sip", str(exc), data, now)])
            return
        if not message.is_request:
            pending = self._pending.get(transaction_key(message))
            if pending is not None and message.code >= 200:
                pending.answered.set()
            return
        key = transaction_key(message)
        if key in self._answered:
            _, answer = self._answered[key]
            if answer is not None:
                self.transport.send(peer, answer)
            return
        self._answered[key] = (now + ANSWERED_KEEP_S, None)
        try:
            async with self._in_flight:
                answer = await self._handle(message, peer, now)
        except Exception:
            self._answered.pop(key, None)
            log.exception("gb28181.failed", method=message.method, peer=f"{peer.host}:{peer.port}")
            return
        if answer is None:
            self._answered.pop(key, None)  # the device's resend gets another try
        else:
            self._answered[key] = (now + ANSWERED_KEEP_S, answer)

    async def _handle(self, message: Message, peer: Peer, now: float) -> bytes | None:
        assert self.core is not None
        device_id = message.from_.uri.user
        async with self._lock(device_id):
            current = await self.store.load(device_id) if device_id else None
            outcome = self.core.handle(message, peer, current, now)
            # An outcome that changes the registration is carried out under the device's lock
            # (its status messages stay in order); an alarm changes nothing, so a device's
            # alarms are published side by side.
            stateful = outcome.save is not None or outcome.forget
            if stateful:
                if not await self._publish(outcome, message.method):
                    return None
                await self._dead(outcome.dead_letters)
                await self._keep(outcome, device_id, now)
                if outcome.save is not None and peer.transport == "TCP":
                    self._tcp_devices[(peer.host, peer.port)] = device_id
        if not stateful:
            if not await self._publish(outcome, message.method):
                return None
            await self._dead(outcome.dead_letters)
        if outcome.note:
            log.info("gb28181." + message.method.lower(), device=device_id, note=outcome.note)
        answer = bytes(outcome.response) if outcome.response is not None else None
        if answer is not None:
            assert outcome.response is not None
            self.metrics.requests.labels(message.method, str(outcome.response.code)).inc()
            self.transport.send(peer, answer)
        target = outcome.save or current
        if target is not None and outcome.requests:
            for item in outcome.requests:
                self._spawn(self._send_request(target, item))
        return answer

    async def _closed(self, peer: Peer) -> None:
        device_id = self._tcp_devices.pop((peer.host, peer.port), None)
        if device_id is None or self.core is None:
            return
        async with self._lock(device_id):
            current = await self.store.load(device_id)
            if current is None or (current.transport, current.host, current.port) != (
                "TCP",
                peer.host,
                peer.port,
            ):
                return
            outcome = self.core.connection_lost(current, time.time())
            if await self._publish(outcome, "close"):
                await self._keep(outcome, device_id, time.time())
                self.metrics.offline.inc()
                log.warning("gb28181.offline", device=device_id, reason=outcome.note)

    # -- outcome --------------------------------------------------------------------------

    async def _publish(self, outcome: Outcome, what: str) -> bool:
        try:
            await self.publisher.publish_all(outcome.publish, self.gb.publish_timeout_s)
        except NotDelivered as exc:
            self.metrics.undelivered.inc()
            log.warning("gb28181.not_delivered", what=what, error=str(exc))
            return False
        for item in outcome.publish:
            self.metrics.published.labels(item.message.KIND.value).inc()
        return True

    async def _dead(self, letters: list[DeadLetter]) -> None:
        await self.dead_letters.write(letters)
        for letter in letters:
            self.metrics.dead.labels(letter.reason).inc()

    async def _keep(self, outcome: Outcome, device_id: str, now: float) -> None:
        if outcome.forget:
            await self.store.forget(device_id)
        elif outcome.save is not None:
            deadline = outcome.save.deadline(self.gb.keepalive_interval_s, self.gb.keepalive_misses)
            await self.store.save(outcome.save, deadline, now)

    # -- outgoing -------------------------------------------------------------------------

    async def _send_request(self, target: Registration, item: DeviceRequest) -> None:
        host = self.gb.advertised_host or (
            self.gb.host if self.gb.host != "0.0.0.0" else "127.0.0.1"
        )
        peer = Peer(target.transport, target.host, target.port)
        outgoing = request(
            item.method,
            Uri(target.device_id, target.host, target.port),
            local=Peer(target.transport, host, self.port),
            from_uri=Uri(self.gb.server_id, self.gb.domain),
            to_uri=Uri(target.device_id, self.gb.domain),
            call_id=f"{uuid.uuid4().hex}@{host}",
            cseq=1,
            headers=item.headers,
            body=item.body,
            content_type=CONTENT_TYPE,
        )
        key = transaction_key(outgoing)
        pending = _Pending(peer, bytes(outgoing), asyncio.Event())
        self._pending[key] = pending
        try:
            for wait in RETRANSMIT_S if peer.transport == "UDP" else (16.0,):
                if not self.transport.send(peer, pending.data):
                    log.warning("gb28181.unreachable", device=target.device_id, method=item.method)
                    return
                try:
                    await asyncio.wait_for(pending.answered.wait(), wait)
                    return
                except TimeoutError:
                    continue
            log.warning("gb28181.no_answer", device=target.device_id, method=item.method)
        finally:
            self._pending.pop(key, None)

    # -- liveness -------------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.gb.sweep_interval_s)
            try:
                await self.sweep(time.time())
            except Exception:
                log.exception("gb28181.sweep_failed")

    async def sweep(self, now: float) -> None:
        """Find devices past their deadline (offline, expired) and forget old answers."""
        assert self.core is not None
        for device_id in await self.store.claim_overdue(now):
            async with self._lock(device_id):
                current = await self.store.load(device_id)
                if current is None:
                    continue
                outcome = self.core.overdue(current, now)
                if not await self._publish(outcome, "sweep"):
                    # Try again next round: put the deadline back.
                    await self.store.save(current, now, now)
                    continue
                await self._keep(outcome, device_id, now)
            if outcome.publish:
                self.metrics.offline.inc()
                log.warning("gb28181.offline", device=device_id, reason=outcome.note)
        for key, (until, _) in list(self._answered.items()):
            if until < now:
                self._answered.pop(key, None)

    def _lock(self, device_id: str) -> asyncio.Lock:
        lock = self._locks.get(device_id)
        if lock is None:
            lock = self._locks[device_id] = asyncio.Lock()
        return lock

    def _spawn(self, coroutine: "asyncio._CoroutineLike[None]") -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
