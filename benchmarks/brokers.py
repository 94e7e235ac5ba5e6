"""Which MQTT broker for a city: Mosquitto (one node) against two brokers that cluster and come
from the registries here — NATS (MQTT front on JetStream, three nodes, replicated) and RabbitMQ
(MQTT plugin, quorum queues, three nodes) — measured the same way in one run:

- `connections` edge-like MQTT 3.1.1 clients spread over the nodes publish QoS 1 at `rate`
  messages per second in all, for `seconds`; what ingest would do reads them (Mosquitto: an
  MQTT 5 shared subscription; NATS: a durable JetStream consumer; RabbitMQ: a quorum queue
  over AMQP) and acknowledges each;
- then the same again while one node is SIGKILLed halfway (Mosquitto: its only node, started
  again after 2 s); clients of the dead node move to the next one.

Reported per broker and phase: messages acknowledged to publishers per second, publish →
consumer p50/p99, acknowledged messages the consumer never got (lost), and repeats.

    python -m benchmarks.brokers [--rate 1000] [--seconds 20] [--connections 60]
        [--brokers mosquitto,nats,rabbitmq] [--json] [--quick]

`--quick` (under a minute): Mosquitto and NATS only, 20 clients, 300 messages/s for 3 s.
RabbitMQ's three nodes alone take about a minute to start. Figures in docs/operations.md.
"""

import argparse
import asyncio
import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from rich.console import Console
from rich.table import Table

from benchmarks.ingest_throughput import percentile
from tests.helpers.mosquitto import running_mosquitto
from tests.helpers.nats_cluster import running_nats
from tests.helpers.rabbitmq_cluster import running_rabbitmq

console = Console() if Console().is_terminal else Console(width=160)
progress = Console(stderr=True)
"""Where the run says what it is doing (stderr: `--json` output stays JSON)."""
TOPIC = "shouwang/v1/tongren-bijiang-{n:02d}/cam-01/event"


@dataclass
class Result:
    broker: str
    phase: str
    connections: int
    acked_per_s: float
    p50_ms: float
    p99_ms: float
    lost: int
    repeats: int
    acked: int


class Received:
    """What the consumer got: first arrival time per id, and repeats."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first: dict[int, float] = {}
        self.latency_ms: dict[int, float] = {}
        self.times: Counter[int] = Counter()

    def note(self, payload: bytes) -> None:
        now = time.time()
        data = json.loads(payload)
        with self.lock:
            self.times[data["id"]] += 1
            if data["id"] not in self.first:
                self.first[data["id"]] = now
                self.latency_ms[data["id"]] = (now - data["t"]) * 1000


class Publisher:
    """One edge-like MQTT 3.1.1 client; moves to the next node when its node dies."""

    def __init__(self, name: str, ports: list[int], start: int) -> None:
        self.ports = ports
        self.index = start
        self.acked: set[int] = set()
        self.pending: dict[int, int] = {}
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311
        )
        self.client.max_inflight_messages_set(100)
        self.client.on_publish = self._published
        self.client.on_disconnect = self._disconnected
        self.lock = threading.Lock()
        self.client.connect("127.0.0.1", self.ports[self.index], keepalive=10)
        self.client.loop_start()

    def _published(self, _c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        with self.lock:
            message_id = self.pending.pop(mid, None)
            if message_id is not None:
                self.acked.add(message_id)

    def _disconnected(self, client: mqtt.Client, *_args: Any) -> None:
        # Messages without a PUBACK stay pending: paho sends them again, under the same
        # packet ids, once connected to the next node.
        self.index = (self.index + 1) % len(self.ports)
        client.connect_async("127.0.0.1", self.ports[self.index], keepalive=10)

    def publish(self, message_id: int, topic: str) -> None:
        payload = json.dumps({"id": message_id, "t": time.time(), "pad": "x" * 300})
        info = self.client.publish(topic, payload, qos=1)
        with self.lock:
            self.pending[info.mid] = message_id

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- consumers (what ingest would be) ---------------------------------------------------------


@contextmanager
def mqtt_consumer(port: int, received: Received) -> Iterator[None]:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-ingest", protocol=mqtt.MQTTv5
    )
    client.on_message = lambda _c, _u, message: received.note(message.payload)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    client.on_connect = lambda c, *_a: c.subscribe("$share/ingest/shouwang/#", qos=1)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600  # as ingest: the session outlives a disconnect
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
    client.loop_start()
    subscribed.wait(10)
    try:
        yield
    finally:
        client.disconnect()
        client.loop_stop()


@contextmanager
def jetstream_consumer(urls: list[str], received: Received) -> Iterator[None]:
    stop = threading.Event()
    ready = threading.Event()

    async def main() -> None:
        import nats
        from nats.js.api import AckPolicy, ConsumerConfig

        connection = await nats.connect(servers=urls, max_reconnect_attempts=-1)
        js = connection.jetstream()
        config = ConsumerConfig(
            durable_name="bench-ingest",
            filter_subject="$MQTT.msgs.shouwang.>",
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=30,
            max_ack_pending=20_000,
        )
        while True:
            try:
                await js.add_consumer("$MQTT_msgs", config)
                subscription = await js.pull_subscribe_bind("bench-ingest", stream="$MQTT_msgs")
                break
            except Exception:
                await asyncio.sleep(0.5)
        ready.set()
        while not stop.is_set():
            try:
                messages = await subscription.fetch(500, timeout=0.5)
            except Exception:
                continue
            for message in messages:
                received.note(message.data)
                await message.ack()
        await connection.close()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    ready.wait(60)
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


@contextmanager
def amqp_consumer(ports: list[int], received: Received) -> Iterator[None]:
    import pika

    stop = threading.Event()
    ready = threading.Event()

    def run() -> None:
        index = 0
        while not stop.is_set():
            try:
                params = pika.ConnectionParameters("127.0.0.1", ports[index], heartbeat=10)
                connection = pika.BlockingConnection(params)
                channel = connection.channel()
                channel.queue_declare(
                    "bench-ingest", durable=True, arguments={"x-queue-type": "quorum"}
                )
                channel.queue_bind("bench-ingest", "amq.topic", routing_key="shouwang.#")
                channel.basic_qos(prefetch_count=2000)
                ready.set()
                for method, _props, body in channel.consume("bench-ingest", inactivity_timeout=0.5):
                    if stop.is_set():
                        break
                    if method is None:
                        continue
                    received.note(body)
                    channel.basic_ack(method.delivery_tag)
                connection.close()
            except Exception:
                index = (index + 1) % len(ports)
                time.sleep(0.5)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(60)
    try:
        yield
    finally:
        stop.set()
        thread.join(15)


# -- the run ----------------------------------------------------------------------------------


def measure(
    broker: str,
    phase: str,
    ports: list[int],
    consumer: Callable[[Received], AbstractContextManager[None]],
    args: argparse.Namespace,
    kill: Callable[[], None] | None,
) -> Result:
    received = Received()
    # The edges connect first: NATS creates its MQTT stream on the first MQTT connection, and
    # a consumer can bind only then.
    publishers = [
        Publisher(f"bench-{phase}-{i}", ports, i % len(ports)) for i in range(args.connections)
    ]
    with consumer(received):
        warm_up(publishers, received)
        interval = 1 / args.rate
        started = time.monotonic()
        killed = False
        message_id = 0
        while (elapsed := time.monotonic() - started) < args.seconds:
            if kill and not killed and elapsed >= args.seconds / 2:
                threading.Thread(target=kill, daemon=True).start()
                killed = True
            publisher = publishers[message_id % len(publishers)]
            publisher.publish(message_id, TOPIC.format(n=message_id % 50))
            message_id += 1
            delay = started + message_id * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        time.sleep(3)
        acked = {n for p in publishers for n in p.acked if n >= 0}
        deadline = time.monotonic() + 5 + args.seconds
        while time.monotonic() < deadline and not acked <= received.first.keys():
            time.sleep(0.5)
        for publisher in publishers:
            publisher.close()
    latencies = sorted(ms for n, ms in received.latency_ms.items() if n >= 0 and n in acked)
    repeats = sum(n - 1 for key, n in received.times.items() if key >= 0 and n > 1)
    return Result(
        broker=broker,
        phase=phase,
        connections=args.connections,
        acked_per_s=round(len(acked) / args.seconds, 1),
        p50_ms=round(percentile(latencies, 0.5), 1) if latencies else 0.0,
        p99_ms=round(percentile(latencies, 0.99), 1) if latencies else 0.0,
        lost=len(acked - received.first.keys()),
        repeats=repeats,
        acked=len(acked),
    )


def warm_up(publishers: list["Publisher"], received: Received, timeout: float = 60.0) -> None:
    """Publish probes (negative ids, left out of the figures) from every publisher until the
    consumer has one from each: connections, stream and consumer are in place."""
    deadline = time.monotonic() + timeout
    probe = -1
    while time.monotonic() < deadline:
        for publisher in publishers:
            publisher.publish(probe, TOPIC.format(n=0))
            probe -= 1
        time.sleep(0.5)
        with received.lock:
            got = sum(1 for n in received.first if n < 0)
        if got >= len(publishers):
            return
    raise RuntimeError(f"the consumer got no probes in {timeout:g} s")


def run_mosquitto(directory: Path, args: argparse.Namespace) -> list[Result]:
    with running_mosquitto(directory / "mosquitto", tuned=True) as broker:
        consumer = lambda received: mqtt_consumer(broker.port, received)  # noqa: E731
        steady = measure("mosquitto", "steady", [broker.port], consumer, args, None)

        def kill() -> None:
            broker.kill()
            time.sleep(2)
            broker.start()

        return [steady, measure("mosquitto", "node killed", [broker.port], consumer, args, kill)]


def run_nats(directory: Path, args: argparse.Namespace) -> list[Result]:
    with running_nats(directory / "nats") as cluster:
        consumer = lambda received: jetstream_consumer(cluster.client_urls, received)  # noqa: E731
        steady = measure("nats", "steady", cluster.mqtt_ports, consumer, args, None)
        killed = measure(
            "nats", "node killed", cluster.mqtt_ports, consumer, args, lambda: cluster.kill(0)
        )
        return [steady, killed]


def run_rabbitmq(directory: Path, args: argparse.Namespace) -> list[Result]:
    with running_rabbitmq(directory / "rabbitmq") as cluster:
        consumer = lambda received: amqp_consumer(cluster.amqp_ports, received)  # noqa: E731
        steady = measure("rabbitmq", "steady", cluster.mqtt_ports, consumer, args, None)
        killed = measure(
            "rabbitmq",
            "node killed",
            cluster.mqtt_ports,
            consumer,
            args,
            lambda: cluster.nodes[0].kill(),
        )
        return [steady, killed]


RUNS = {"mosquitto": run_mosquitto, "nats": run_nats, "rabbitmq": run_rabbitmq}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000, help="messages per second in all")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=60)
    parser.add_argument("--brokers", default="mosquitto,nats,rabbitmq")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    args = parser.parse_args()
    if args.quick:
        args.rate, args.seconds, args.connections = 300, 3, 20
        args.brokers = "mosquitto,nats"
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="shouwang-brokers-", dir="/tmp") as directory:
        for name in args.brokers.split(","):
            progress.print(f"[dim]{name}: starting …[/dim]")
            results += RUNS[name](Path(directory) / name, args)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return
    table = Table(title=f"QoS 1 at {args.rate:g} msg/s for {args.seconds:g} s, MQTT 3.1.1 edges")
    for column in (
        "broker",
        "phase",
        "connections",
        "acked/s",
        "p50 ms",
        "p99 ms",
        "lost",
        "repeats",
    ):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.broker,
            r.phase,
            str(r.connections),
            f"{r.acked_per_s:,.0f}",
            f"{r.p50_ms:g}",
            f"{r.p99_ms:g}",
            f"{r.lost} of {r.acked:,}",
            str(r.repeats),
        )
    console.print(table)


if __name__ == "__main__":
    main()
