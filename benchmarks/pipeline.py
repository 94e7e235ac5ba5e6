"""The back-office pipeline end to end: MQTT → ingest → Redis Stream → rules → alert committed.

    python -m benchmarks.pipeline [--persons 10000] [--events 10000] [--rate 1000] [--seconds 10]

Runs a private Mosquitto with the project's tuning, one ingest worker process and one rules
worker process (SQLite, the watch list and rule set of benchmarks.rules_throughput), and the
Redis on 127.0.0.1:6379 (names bench:*, removed afterwards).

1. Throughput: N events of the realistic mix are queued at the broker while both services are
   away; then they start and the time until the rules have decided every one is measured. The
   baseline is a plain subscriber draining the same N messages from the broker, in the same run.
2. Latency: the mix is published at a steady rate; for each event that raised or updated an
   alert, the time from publishing it to the alert change being published after commit.
"""

import argparse
import json
import multiprocessing
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from rich.console import Console
from rich.table import Table

from benchmarks.ingest_throughput import REDIS_URL, CountingSubscriber, ingest_settings, publish
from benchmarks.rules_throughput import _worker_process, database, mixed_entry, populate, rule_set
from ingest.service import run_worker
from records.feed import AlertChange
from rules.config import RulesSettings
from shouwang.logs import configure_logging
from tests.helpers.mosquitto import running_mosquitto

console = Console()


def _ingest_process(settings: Any) -> None:
    configure_logging("WARNING")
    run_worker(settings)


class Pipeline:
    """An ingest and a rules worker process on the benchmark's names."""

    def __init__(self, broker_port: int, database_url: str, tmp: Path, persons: int) -> None:
        uid = uuid.uuid4().hex[:8]
        self.ingest = ingest_settings(broker_port, uid, 0, tmp)
        self.stream = self.ingest.ingest.stream
        self.rules = RulesSettings.load(
            None,
            redis={"url": REDIS_URL},
            database={"url": database_url},
            rules={
                "stream": self.stream,
                "group": f"bench-{uid}",
                "group_start": "0",
                "deadletter_stream": f"bench:{uid}:deadletter",
                "alerts_stream": f"bench:{uid}:alerts",
                "notifications_stream": f"bench:{uid}:notifications",
                "key_prefix": f"bench:{uid}:rules",
            },
        )
        self.rule_set = rule_set(100)
        self.households = persons // 2
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[Any] = []
        self.stop_rules = self.context.Event()

    def start(self, *, rules: bool = True) -> None:
        ingest = self.context.Process(target=_ingest_process, args=(self.ingest,))
        self.processes = [ingest]
        if rules:
            self.stop_rules.clear()
            self.processes.append(
                self.context.Process(
                    target=_worker_process, args=(self.rules, self.rule_set, self.stop_rules)
                )
            )
        for process in self.processes:
            process.start()
        time.sleep(3.0)  # imports, session, consumer group

    def stop(self) -> None:
        self.stop_rules.set()
        ingest = self.processes[0]
        if ingest.is_alive():
            ingest.terminate()  # SIGTERM: ingest finishes its batch and leaves
        for process in self.processes:
            process.join(30)

    def messages(self, count: int, rng: random.Random) -> list[tuple[str, str]]:
        entries = [mixed_entry(self.households, rng) for _ in range(count)]
        return [(entry["topic"], entry["payload"]) for entry in entries]

    def decided(self, client: redis.Redis) -> int:
        """Entries the rules group has read and acknowledged."""
        groups = client.xinfo_groups(self.stream)
        mine = next((g for g in groups if g["name"] == self.rules.rules.group), None)
        if mine is None or mine.get("lag") is None:
            return 0
        return int(client.xlen(self.stream)) - int(mine["lag"]) - int(mine["pending"])

    def cleanup(self, client: redis.Redis) -> None:
        section = self.rules.rules
        client.delete(
            self.stream,
            self.ingest.ingest.deadletter_stream,
            section.deadletter_stream,
            section.alerts_stream,
            section.notifications_stream,
        )


def drain_rates(
    port: int, pipeline: Pipeline, events: int, client: redis.Redis
) -> tuple[float, float]:
    """(raw subscriber msg/s, pipeline events/s) for the same backlog of `events` messages."""
    rng = random.Random(7)
    messages = pipeline.messages(events, rng)
    raw_site = f"raw{uuid.uuid4().hex[:6]}"
    raw = CountingSubscriber(port, f"bench-raw-{raw_site}", "shouwang/v1/bench-site/#")
    raw.connect()
    raw.disconnect()
    pipeline.start(rules=False)
    pipeline.stop()  # the ingest session exists and keeps what arrives while it is away
    publish(port, messages)
    raw.expected = events
    raw.connect()
    raw.done.wait(300)
    raw.disconnect()
    raw_rate = events / (raw.last - raw.first)
    pipeline.start()
    deadline = time.monotonic() + 600
    while pipeline.decided(client) < events and time.monotonic() < deadline:
        time.sleep(0.02)
    finished = time.time()
    [(first_id, _)] = client.xrange(pipeline.stream, count=1)
    started = int(first_id.split("-")[0]) / 1000
    pipeline.stop()
    return raw_rate, events / (finished - started)


def publish_latencies(
    port: int, pipeline: Pipeline, client: redis.Redis, rate: float, seconds: float
) -> tuple[int, list[float]]:
    """Publish the mix at `rate`; ms from publishing each alert-raising event to its change."""
    rng = random.Random(11)
    messages = pipeline.messages(int(rate * seconds), rng)
    alerts_stream = pipeline.rules.rules.alerts_stream
    first_change = client.xlen(alerts_stream)
    first_entry = client.xlen(pipeline.stream)
    pipeline.start()
    sent_at = publish(port, messages, rate=rate, record=True)
    deadline = time.monotonic() + 60
    while pipeline.decided(client) < first_entry + len(messages) and time.monotonic() < deadline:
        time.sleep(0.05)
    pipeline.stop()
    ids = {}
    for entry_id, fields in client.xrange(pipeline.stream):
        payload = json.loads(fields["payload"])
        ids[entry_id] = payload.get("event_id") or payload.get("reading_id")
    latencies = []
    for entry_id, fields in client.xrange(alerts_stream)[first_change:]:
        change = AlertChange.from_fields(fields)
        message_id = ids.get(change.entry_id)
        if message_id in sent_at:
            latencies.append(int(entry_id.split("-")[0]) - sent_at[message_id] * 1000)
    return len(messages), latencies


def main() -> None:
    configure_logging("WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_mosquitto(Path(tmp) / "broker", tuned=True) as broker,
        database(None) as engine,
    ):
        populate(engine, args.persons)
        url = str(engine.url.render_as_string(hide_password=False))
        pipeline = Pipeline(broker.port, url, Path(tmp), args.persons)
        try:
            console.print(
                f"draining {args.events:,} queued events: raw subscriber, then pipeline …"
            )
            raw, rate = drain_rates(broker.port, pipeline, args.events, client)
            console.print(f"publishing at {args.rate:.0f}/s for {args.seconds:.0f} s …")
            sent, latencies = publish_latencies(
                broker.port, pipeline, client, args.rate, args.seconds
            )
        finally:
            pipeline.cleanup(client)
    latencies.sort()
    table = Table(title="MQTT → ingest → rules → alert committed (one worker each, same run)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("raw subscriber drain rate", f"{raw:,.0f} msg/s")
    table.add_row("pipeline drain rate (events decided by the rules)", f"{rate:,.0f} events/s")
    table.add_row("ratio pipeline / raw", f"{rate / raw:.2f}")
    if latencies:
        table.add_row(
            f"publish → alert change p50 at {args.rate:.0f}/s",
            f"{statistics.median(latencies):.0f} ms",
        )
        table.add_row(
            f"publish → alert change p99 at {args.rate:.0f}/s",
            f"{latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]:.0f} ms",
        )
    table.add_row("latency run: events sent / alert changes", f"{sent:,} / {len(latencies):,}")
    console.print(table)


if __name__ == "__main__":
    main()
