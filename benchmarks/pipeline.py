"""The back-office pipeline end to end: MQTT → ingest → Redis Stream → rules → alert committed.

    python -m benchmarks.pipeline [--persons 10000] [--events 10000] [--rate 1000] [--seconds 10]
                                  [--database URL]

Runs a private Mosquitto with the project's tuning, one ingest worker process and one rules
worker process (SQLite unless --database names PostgreSQL; the watch list and rule set of
benchmarks.rules_throughput), and the Redis on 127.0.0.1:6379 (names bench:*, removed
afterwards).

1. Throughput: N events of the realistic mix are queued at the broker while both services are
   away; then the rules worker starts, then ingest, and the time from the first entry stored
   until the rules have decided every one is measured. The
   baseline is a plain subscriber draining the same N messages from the broker, in the same run.
2. Latency: the mix is published at a steady rate; for each event that raised or updated an
   alert, the time from publishing it to the alert change being published after commit. The
   baseline is the same mix published at the same rate to a plain subscriber, in the same run.
"""

import argparse
import json
import multiprocessing
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from rich.console import Console
from rich.table import Table

from benchmarks.ingest_throughput import (
    REDIS_URL,
    CountingSubscriber,
    ingest_settings,
    percentile,
    publish,
    raw_latencies,
)
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
        self.ingest_process: Any = None
        self.rules_process: Any = None
        self.stop_rules = self.context.Event()

    def start(self, *, rules: bool = True) -> None:
        """Start the rules worker (unless `rules` is false or it runs already) and wait until it
        reads the stream, then start ingest (so a drain measures the pipeline, not the rules
        worker's start-up)."""
        if rules and self.rules_process is None:
            self.stop_rules.clear()
            worker = self.context.Process(
                target=_worker_process, args=(self.rules, self.rule_set, self.stop_rules)
            )
            worker.start()
            self.rules_process = worker
            self._wait_reading(worker)
        self.ingest_process = self.context.Process(target=_ingest_process, args=(self.ingest,))
        self.ingest_process.start()
        time.sleep(3.0)  # imports, session

    def _wait_reading(self, worker: Any, timeout: float = 60.0) -> None:
        """Until the rules worker has created its group: it reads right after (Redis 7.0 lists
        a blocked reader among the group's consumers only once it has read something)."""
        client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and worker.is_alive():
                try:
                    groups = client.xinfo_groups(self.stream)
                except redis.ResponseError:  # no stream yet
                    groups = []
                if any(g["name"] == self.rules.rules.group for g in groups):
                    time.sleep(0.5)
                    return
                time.sleep(0.05)
            raise RuntimeError("the rules worker did not start reading the stream")
        finally:
            client.close()

    def stop(self, *, rules: bool = True) -> None:
        """Stop ingest (SIGTERM: it finishes its batch and leaves) and, if `rules`, the rules
        worker."""
        if self.ingest_process is not None:
            if self.ingest_process.is_alive():
                self.ingest_process.terminate()
            self.ingest_process.join(30)
            self.ingest_process = None
        if rules and self.rules_process is not None:
            self.stop_rules.set()
            self.rules_process.join(30)
            self.rules_process = None

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
            *client.scan_iter(match=f"{section.key_prefix}:*", count=10_000),
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
    pipeline.stop(rules=False)  # the rules worker stays, warm, for the latency run
    return raw_rate, events / (finished - started)


def publish_latencies(
    port: int, pipeline: Pipeline, client: redis.Redis, rate: float, seconds: float
) -> tuple[int, list[float]]:
    """Publish the mix at `rate`; ms from publishing each alert-raising event to its change.
    The rules worker of the drain still runs, as a long-running worker would."""
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


def outside_ingest(pipeline: Pipeline, rate: float, seconds: float) -> list[tuple[str, str]]:
    """The mix for the raw baseline, on topics outside `shouwang/#`: ingest's persistent
    session would otherwise keep them while ingest is away and replay them into the latency run."""
    messages = pipeline.messages(int(rate * seconds), random.Random(13))
    return [("rawbench/" + topic.split("/", 1)[1], payload) for topic, payload in messages]


@dataclass
class PipelineResult:
    """Drain rates (raw subscriber and pipeline) and latencies (ms) of one run."""

    raw_rate: float
    rate: float
    sent: int
    latencies: list[float]
    raw_latencies: list[float]


def run(
    persons: int,
    events: int,
    rate: float,
    seconds: float,
    database_url: str | None = None,
    say: Callable[[str], None] = console.print,
) -> PipelineResult:
    """Both measurements against a private tuned Mosquitto, the local Redis and a fresh
    database (SQLite unless `database_url` names PostgreSQL)."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_mosquitto(Path(tmp) / "broker", tuned=True) as broker,
        database(database_url) as engine,
    ):
        populate(engine, persons)
        url = str(engine.url.render_as_string(hide_password=False))
        pipeline = Pipeline(broker.port, url, Path(tmp), persons)
        try:
            say(f"pipeline: draining {events:,} queued events: raw subscriber, then pipeline …")
            raw, drained = drain_rates(broker.port, pipeline, events, client)
            say(f"pipeline: raw subscriber latency at {rate:.0f}/s for {seconds:.0f} s …")
            baseline = raw_latencies(broker.port, outside_ingest(pipeline, rate, seconds), rate)
            say(f"pipeline: publishing at {rate:.0f}/s for {seconds:.0f} s …")
            sent, latencies = publish_latencies(broker.port, pipeline, client, rate, seconds)
        finally:
            pipeline.stop()
            pipeline.cleanup(client)
    return PipelineResult(raw, drained, sent, sorted(latencies), baseline)


def main() -> None:
    configure_logging("WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    result = run(args.persons, args.events, args.rate, args.seconds, args.database)
    latencies, raw = result.latencies, result.raw_latencies
    table = Table(title="MQTT → ingest → rules → alert committed (one worker each, same run)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("raw subscriber drain rate", f"{result.raw_rate:,.0f} msg/s")
    table.add_row(
        "pipeline drain rate (events decided by the rules)", f"{result.rate:,.0f} events/s"
    )
    table.add_row("ratio pipeline / raw", f"{result.rate / result.raw_rate:.2f}")
    for q in (0.5, 0.99):
        if latencies:
            table.add_row(
                f"publish → alert change p{q * 100:.0f} at {args.rate:.0f}/s",
                f"{percentile(latencies, q):.0f} ms",
            )
        if raw:
            table.add_row(
                f"publish → raw subscriber p{q * 100:.0f} at {args.rate:.0f}/s",
                f"{percentile(raw, q):.1f} ms",
            )
    table.add_row(
        "latency run: events sent / alert changes", f"{result.sent:,} / {len(latencies):,}"
    )
    console.print(table)


if __name__ == "__main__":
    main()
