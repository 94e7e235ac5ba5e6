"""Ingest throughput and latency against real Mosquitto and Redis, as ratios to the raw broker.

    python -m benchmarks.ingest_throughput [--events 20000] [--workers 1] [--rate 1000]

1. Drain rate: N events are queued at the broker for a persistent session while the consumer
   is away; then the consumer connects and the time to take them all is measured. The
   baseline is a plain paho subscriber that only counts the same messages; ingest validates,
   de-duplicates, XADDs and acknowledges each one after Redis accepted it.
2. Latency: events published at a steady rate (default 1,000/s) while ingest runs; latency is
   the Redis stream entry's time minus the event's `observed_at` (stamped at publish).

Uses a private Mosquitto with the project's tuning (configs/mosquitto/conf.d) on a free port
and the Redis on 127.0.0.1:6379 (streams named bench:*, deleted afterwards).
"""

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import redis
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from rich.console import Console
from rich.table import Table

from ingest.config import IngestSettings
from ingest.worker import IngestWorker
from shouwang.contracts import MessageKind, build_topic
from shouwang.contracts.examples import example
from shouwang.logs import configure_logging
from tests.helpers.mosquitto import running_mosquitto

REDIS_URL = "redis://127.0.0.1:6379/0"
console = Console()


def publish(
    port: int, messages: list[tuple[str, str]], rate: float | None = None, record: bool = False
) -> dict[str, float]:
    """Publish at QoS 1 (as fast as possible, or paced at `rate` per second) and wait for acks.

    With `record`, returns when each message (by its event_id/reading_id) was published.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex}")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = []
    sent_at: dict[str, float] = {}
    start = time.perf_counter()
    for index, (topic, payload) in enumerate(messages):
        if rate:
            delay = start + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            payload = payload.replace("__NOW__", datetime.now(UTC).isoformat())
        if record:
            fields = json.loads(payload)
            sent_at[fields.get("event_id") or fields.get("reading_id")] = time.time()
        infos.append(client.publish(topic, payload, qos=1))
    for info in infos:
        info.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()
    return sent_at


class CountingSubscriber:
    """The baseline: a persistent-session paho subscriber that only counts messages."""

    def __init__(self, port: int, client_id: str, topic_filter: str) -> None:
        self.count = 0
        self.first = self.last = 0.0
        self.done = threading.Event()
        self.expected = 0
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
        )
        self.client.on_message = self._on_message
        self.port = port
        self.topic_filter = topic_filter

    def _on_message(self, *_args: object) -> None:
        now = time.perf_counter()
        if self.count == 0:
            self.first = now
        self.count += 1
        self.last = now
        if self.count >= self.expected:
            self.done.set()

    def connect(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 600
        properties.ReceiveMaximum = 1000
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect("127.0.0.1", self.port, clean_start=False, properties=properties)
        self.client.subscribe(self.topic_filter, qos=1)
        self.client.loop_start()
        subscribed.wait(10)

    def disconnect(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class TimingSubscriber(CountingSubscriber):
    """A subscriber that notes when each message (by its event_id/reading_id) arrived."""

    def __init__(self, port: int, client_id: str, topic_filter: str) -> None:
        super().__init__(port, client_id, topic_filter)
        self.arrived: dict[str, float] = {}

    def _on_message(self, _client: object, _userdata: object, message: object) -> None:
        fields = json.loads(message.payload)  # type: ignore[attr-defined]
        self.arrived[fields.get("event_id") or fields.get("reading_id")] = time.time()
        super()._on_message()


def raw_latencies(port: int, messages: list[tuple[str, str]], rate: float) -> list[float]:
    """The baseline for latency: ms from publishing each message at `rate` to a plain
    subscriber receiving it from the broker."""
    topic_filter = "/".join(messages[0][0].split("/")[:3]) + "/#"
    subscriber = TimingSubscriber(port, f"bench-rawlat-{uuid.uuid4().hex}", topic_filter)
    subscriber.expected = len(messages)
    subscriber.connect()
    sent_at = publish(port, messages, rate=rate, record=True)
    subscriber.done.wait(60)
    subscriber.disconnect()
    return sorted(
        1000 * (subscriber.arrived[key] - sent)
        for key, sent in sent_at.items()
        if key in subscriber.arrived
    )


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile (0..1) of sorted values, nearest rank."""
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def event_lines(site: str, count: int, stamp_now: bool = False) -> list[tuple[str, str]]:
    topic = build_topic(site, "cam-01", "event")
    lines = []
    for _ in range(count):
        payload = example(MessageKind.EVENT, site=site, source="cam-01").model_dump_json()
        if stamp_now:
            event = json.loads(payload)
            event["observed_at"] = event["started_at"] = "__NOW__"
            payload = json.dumps(event)
        lines.append((topic, payload))
    return lines


def ingest_settings(
    port: int, uid: str, worker: int, snapshot_dir: Path, *, broker_stats: bool = False
) -> IngestSettings:
    return IngestSettings.load(
        None,
        mqtt={"host": "127.0.0.1", "port": port},
        redis={"url": REDIS_URL},
        ingest={
            "worker_id": f"bench-{uid}-{worker}",
            "share_group": f"bench{uid}",
            "stream": f"bench:{uid}:events",
            "deadletter_stream": f"bench:{uid}:deadletter",
            "snapshot_dir": str(snapshot_dir),
            "metrics_port": 0,
            "session_expiry_s": 600,
            "broker_stats": broker_stats,
        },
        log_level="WARNING",
    )


def measure_raw(port: int, events: int) -> float:
    site = f"raw{uuid.uuid4().hex[:8]}"
    subscriber = CountingSubscriber(port, f"bench-raw-{site}", f"shouwang/v1/{site}/+/+")
    subscriber.connect()
    subscriber.disconnect()
    publish(port, event_lines(site, events))
    subscriber.expected = events
    subscriber.connect()
    subscriber.done.wait(300)
    subscriber.disconnect()
    return events / (subscriber.last - subscriber.first)


def run_workers(
    settings: list[IngestSettings],
) -> tuple[list[IngestWorker], list[threading.Thread]]:
    workers = [IngestWorker(s) for s in settings]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for worker in workers:
        worker.wait_subscribed(15)
    return workers, threads


def stop_workers(workers: list[IngestWorker], threads: list[threading.Thread]) -> None:
    for worker in workers:
        worker.stop()
    for thread in threads:
        thread.join(30)


def measure_ingest(port: int, events: int, worker_count: int, tmp: Path) -> tuple[float, str]:
    uid = uuid.uuid4().hex[:8]
    settings = [ingest_settings(port, uid, w, tmp) for w in range(worker_count)]
    stream = settings[0].ingest.stream
    stop_workers(*run_workers(settings))  # create the sessions, then go away
    site = f"ing{uid}"
    publish(port, event_lines(site, events))
    client = redis.Redis.from_url(REDIS_URL)
    workers, threads = run_workers(settings)
    deadline = time.monotonic() + 600
    while client.xlen(stream) < events and time.monotonic() < deadline:
        time.sleep(0.02)
    stop_workers(workers, threads)
    [(_, first)] = client.xrange(stream, count=1)
    [(last_id, _)] = client.xrevrange(stream, count=1)
    span_ms = int(last_id.split(b"-")[0]) - int(first[b"received_ms"])
    stored = client.xlen(stream)
    client.delete(stream, settings[0].ingest.deadletter_stream)
    return stored / (span_ms / 1000), f"{stored}/{events} stored"


def measure_latency(port: int, rate: float, seconds: float, tmp: Path) -> dict[str, float]:
    uid = uuid.uuid4().hex[:8]
    settings = [ingest_settings(port, uid, 0, tmp)]
    stream = settings[0].ingest.stream
    workers, threads = run_workers(settings)
    site = f"lat{uid}"
    count = int(rate * seconds)
    publish(port, event_lines(site, count, stamp_now=True), rate=rate)
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    deadline = time.monotonic() + 60
    while client.xlen(stream) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_workers(workers, threads)
    latencies = []
    for entry_id, fields in client.xrange(stream):
        stored_ms = int(entry_id.split("-")[0])
        observed = datetime.fromisoformat(json.loads(fields["payload"])["observed_at"])
        latencies.append(stored_ms - observed.timestamp() * 1000)
    client.delete(stream, settings[0].ingest.deadletter_stream)
    latencies.sort()
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "stored": len(latencies),
        "sent": count,
    }


def main() -> None:
    configure_logging("WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_mosquitto(Path(tmp) / "broker", tuned=True) as broker,
    ):
        console.print(f"draining {args.events} queued events: raw subscriber …")
        raw = measure_raw(broker.port, args.events)
        console.print(f"draining {args.events} queued events: ingest × {args.workers} …")
        ingest_rate, stored = measure_ingest(broker.port, args.events, args.workers, Path(tmp))
        console.print(f"latency at {args.rate:.0f} events/s for {args.seconds:.0f} s …")
        latency = measure_latency(broker.port, args.rate, args.seconds, Path(tmp))
    table = Table(title="Ingest vs raw broker (same run, same machine)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("raw subscriber drain rate", f"{raw:,.0f} msg/s")
    table.add_row(f"ingest drain rate ({args.workers} worker(s))", f"{ingest_rate:,.0f} events/s")
    table.add_row("ratio ingest / raw", f"{ingest_rate / raw:.2f}")
    table.add_row("stored", stored)
    table.add_row(f"publish→XADD p50 at {args.rate:.0f}/s", f"{latency['p50_ms']:.1f} ms")
    table.add_row(f"publish→XADD p99 at {args.rate:.0f}/s", f"{latency['p99_ms']:.1f} ms")
    table.add_row("latency run stored/sent", f"{latency['stored']}/{latency['sent']}")
    console.print(table)


if __name__ == "__main__":
    main()
