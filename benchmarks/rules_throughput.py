"""Benchmark the rules engine: decisions per second with 10,000 watch-list persons and 100
rules, and latency from XADD to the alert change being published at a steady event rate, with
the Redis round trip measured in the same run as the baseline.

    python -m benchmarks.rules_throughput [--database URL] [--persons 10000] [--rules 100]
                              [--events 20000] [--rate 1000] [--seconds 20] [--workers 1]
                              [--runs 1]

It uses its own stream and key names in Redis and a fresh SQLite file (or a fresh PostgreSQL
schema when --database is a PostgreSQL URL), and removes them afterwards.
"""

import argparse
import multiprocessing
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import Engine, create_engine, insert, text

from records.db import make_engine, make_sessionmaker, normalise_url
from records.feed import AlertChange
from records.migrate import upgrade
from records.people import Area, Coverage, Guardian, Guardianship, Household, Person, Staff
from rules.config import RulesSettings
from rules.consumer import RulesConsumer
from rules.definitions import Rule, RuleSet, load_rules
from rules.service import build_consumer
from shouwang.contracts import BehaviourEvent, EventType, Phase, SensorReading, SensorType
from shouwang.logs import configure_logging

SITE = "bench-site"
SHANGHAI = ZoneInfo("Asia/Shanghai")
_START = time.time()
_NOON = datetime.now(SHANGHAI).replace(hour=12, minute=0, second=0, microsecond=0)


def observed_now() -> datetime:
    """Event time: local noon today plus the time the benchmark has run (so results do not
    depend on the hour it runs at, and cooldowns see real spacing)."""
    return _NOON + timedelta(seconds=time.time() - _START)


DEFAULT_RULES = Path(__file__).parents[1] / "configs" / "rules.yaml"


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def database(url: str | None) -> Iterator[Engine]:
    """A migrated, empty database: a temporary SQLite file, or a fresh PostgreSQL schema."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(url or f"sqlite:///{folder}/bench.sqlite3")
            upgrade(engine)
            yield engine
            engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    engine = make_engine(f"{url}{separator}options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def populate(engine: Engine, persons: int) -> int:
    """A county of 10 towns, 100 villages, 1,000 grids with staff; `persons` watch-list persons
    in households of two, each household with a camera and each person an SOS button.
    Returns the number of households."""
    households = persons // 2
    with engine.begin() as db:
        db.execute(insert(Area), [{"id": 1, "code": "c", "name": "县", "level": "county"}])
        db.execute(
            insert(Area),
            [
                {"id": 10 + t, "code": f"t{t}", "name": "镇", "level": "town", "parent_id": 1}
                for t in range(10)
            ],
        )
        db.execute(
            insert(Area),
            [
                {
                    "id": 100 + v,
                    "code": f"v{v}",
                    "name": "村",
                    "level": "village",
                    "parent_id": 10 + v // 10,
                }
                for v in range(100)
            ],
        )
        db.execute(
            insert(Area),
            [
                {
                    "id": 1000 + g,
                    "code": f"g{g}",
                    "name": "网格",
                    "level": "grid",
                    "parent_id": 100 + g // 10,
                }
                for g in range(1000)
            ],
        )
        staff = [
            {
                "code": f"gw{g}",
                "name": "网格员",
                "phone": "1",
                "role": "grid_worker",
                "area_id": 1000 + g,
                "channels": [],
                "active": True,
            }
            for g in range(1000)
        ]
        for t in range(10):
            for role in ("duty_officer", "police"):
                staff.append(
                    {
                        "code": f"{role}{t}",
                        "name": role,
                        "phone": "1",
                        "role": role,
                        "area_id": 10 + t,
                        "channels": [],
                        "active": True,
                    }
                )
        db.execute(insert(Staff), staff)
        db.execute(
            insert(Household),
            [
                {"id": h + 1, "code": f"h{h}", "address": f"{h}号", "area_id": 1000 + h % 1000}
                for h in range(households)
            ],
        )
        now = datetime.now(UTC)
        db.execute(
            insert(Person),
            [
                {
                    "id": p + 1,
                    "code": f"p{p}",
                    "name": f"人{p}",
                    "category": "elder" if p % 2 == 0 else "child",
                    "birth_year": 1950,
                    "conditions": [],
                    "risk_level": 1 + p % 4,
                    "lives_alone": p % 4 == 0,
                    "notes": "",
                    "active": True,
                    "household_id": p // 2 + 1,
                    "updated_at": now,
                }
                for p in range(2 * households)
            ],
        )
        db.execute(
            insert(Guardian),
            [
                {"id": h + 1, "phone": f"139{h:08d}", "name": "家属", "channels": ["webpush"]}
                for h in range(households)
            ],
        )
        db.execute(
            insert(Guardianship),
            [
                {"person_id": p + 1, "guardian_id": p // 2 + 1, "relation": "子女"}
                for p in range(2 * households)
            ],
        )
        db.execute(
            insert(Coverage),
            [
                {
                    "site": SITE,
                    "source_kind": "camera",
                    "source": f"cam-{h}",
                    "zone": None,
                    "household_id": h + 1,
                    "person_id": None,
                }
                for h in range(households)
            ]
            + [
                {
                    "site": SITE,
                    "source_kind": "sensor",
                    "source": f"sos-{p}",
                    "zone": None,
                    "household_id": None,
                    "person_id": p + 1,
                }
                for p in range(2 * households)
            ],
        )
    return households


def analyze(engine: Engine) -> None:
    """On PostgreSQL, gather the planner statistics autovacuum keeps for a watch list in use
    (just filled, its tables would be planned as if empty, e.g. guardians scanned whole)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as db:
            db.execute(text("ANALYZE"))


def rule_set(count: int) -> RuleSet:
    """The default rules plus variants up to `count`: narrower zones, attribute conditions or
    stricter watch-list conditions, so most do not fire but many need the watch list to decide."""
    base = load_rules(DEFAULT_RULES)
    rules: list[Rule] = list(base.rules)
    variants = [r for r in base.rules if r.match.kind.value == "event" and not r.match.hold_s]
    index = 0
    while len(rules) < count:
        source = variants[index % len(variants)]
        match: dict[str, Any] = source.match.model_dump()
        style = index % 3
        if style == 0:
            match["zone_tags"] = [f"zone{index}"]
        elif style == 1:
            match["attributes"] = {"severity": "extreme"}
        else:
            match["watchlist"] = {"min_risk_level": 4, "conditions": [f"condition{index}"]}
        rules.append(
            source.model_copy(
                update={
                    "id": f"{source.id}_v{index}",
                    "match": type(source.match).model_validate(match),
                }
            )
        )
        index += 1
    return RuleSet(rules=rules)


def event_entry(
    event_type: EventType, camera: str, rng: random.Random, zone_tags: tuple[str, ...] = ()
) -> dict[str, str]:
    """An event starting now at `camera`, as ingest stores it."""
    now = observed_now()
    event_id = str(uuid.uuid4())
    wire = BehaviourEvent(
        schema_version=1,
        event_id=event_id,
        episode_id=event_id,
        type=event_type,
        phase=Phase.START,
        site=SITE,
        edge="e1",
        camera=camera,
        observed_at=now,
        started_at=now,
        confidence=0.6 + rng.random() * 0.4,
        zone="yard" if zone_tags else None,
        zone_tags=zone_tags,
    )
    return _entry("event", wire.idempotency_key, camera, event_type.value, wire.model_dump_json())


def fall_entry(households: int, rng: random.Random) -> dict[str, str]:
    """A fall at a watched household: always raises or updates an alert."""
    return event_entry(EventType.FALL, f"cam-{rng.randrange(households)}", rng)


MIX = (
    "10% falls and 5% inactivity at watched homes (alerts), 40% daytime loitering there, "
    "25% events at unwatched cameras, 19% routine sensor readings, 1% SOS presses"
)


def mixed_entry(households: int, rng: random.Random) -> dict[str, str]:
    """An entry of the mix described by MIX."""
    roll = rng.random()
    home = f"cam-{rng.randrange(households)}"
    if roll < 0.10:
        return event_entry(EventType.FALL, home, rng)
    if roll < 0.15:
        return event_entry(EventType.INACTIVITY, home, rng, ("home",))
    if roll < 0.55:
        return event_entry(EventType.LOITERING, home, rng, ("home",))
    if roll < 0.80:
        street = f"street-{rng.randrange(500)}"
        return event_entry(rng.choice([EventType.FALL, EventType.LOITERING]), street, rng)
    sos = roll >= 0.99
    reading = SensorReading(
        schema_version=1,
        reading_id=str(uuid.uuid4()),
        site=SITE,
        device=f"sos-{rng.randrange(2 * households)}",
        sensor_type=SensorType.SOS_BUTTON if sos else SensorType.TEMPERATURE,
        observed_at=observed_now(),
        value=True if sos else 21.5,
        battery_pct=80.0,
    )
    return _entry(
        "sensor",
        reading.idempotency_key,
        reading.device,
        reading.sensor_type.value,
        reading.model_dump_json(),
    )


def _entry(kind: str, key: str, source: str, type_: str, payload: str) -> dict[str, str]:
    return {
        "kind": kind,
        "key": key,
        "site": SITE,
        "source": source,
        "topic": f"shouwang/v1/{SITE}/{source}/{kind}",
        "received_ms": str(int(time.time() * 1000)),
        "type": type_,
        "phase": "start",
        "payload": payload,
    }


def redis_rtt(client: redis.Redis, rounds: int = 2000) -> tuple[float, float]:
    """PING round trip p50 and p99 in ms."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        client.ping()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), _percentile(times, 0.99)


def decisions(
    consumer: RulesConsumer, client: redis.Redis, stream: str, entries: list[dict[str, str]]
) -> float:
    """Entries decided per second by one worker draining a backlog of `entries`."""
    pipe = client.pipeline(transaction=False)
    for entry in entries:
        pipe.xadd(stream, entry)
    pipe.execute()
    started = time.perf_counter()
    while consumer.poll(block_ms=0):
        pass
    return len(entries) / (time.perf_counter() - started)


def _worker_process(settings: RulesSettings, rules: RuleSet, stop: Any) -> None:
    """One rules worker in its own process, until `stop` (a multiprocessing Event) is set."""
    configure_logging("WARNING")
    consumer = build_consumer(settings, rules)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    stop.wait()
    consumer.stop()
    thread.join(10)


def latencies(
    settings: RulesSettings,
    rules: RuleSet,
    workers: int,
    client: redis.Redis,
    rate: float,
    seconds: float,
    entry: Callable[[], dict[str, str]],
) -> tuple[int, list[int]]:
    """Publish `entry()` at `rate` for `seconds` while `workers` worker processes run; returns
    how many were sent and, for each alert change they caused, ms from XADD to the change being
    published (both from the Redis server's clock: the entry ids)."""
    section = settings.rules
    first_change = client.xlen(section.alerts_stream)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    processes = [
        context.Process(
            target=_worker_process,
            args=(
                settings.model_copy(
                    update={"rules": section.model_copy(update={"consumer": f"bench-{n}"})}
                ),
                rules,
                stop,
            ),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    time.sleep(3.0)  # let them start
    sent = 0
    start = time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        due = int((now - start) * rate) + 1
        for _ in range(due - sent):
            client.xadd(section.stream, entry())
        sent = due
        time.sleep(0.0005)
    time.sleep(2.0)
    stop.set()
    for process in processes:
        process.join(15)
    found = []
    for entry_id, fields in client.xrange(section.alerts_stream)[first_change:]:
        change = AlertChange.from_fields(fields)
        if change.entry_id:
            published, added = entry_id.split("-")[0], change.entry_id.split("-")[0]
            found.append(int(published) - int(added))
    return sent, found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes in the latency run"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="latency runs, one after the other (the machine "
        "may be shared: a range says more than one run)",
    )
    args = parser.parse_args()
    configure_logging("WARNING")
    rng = random.Random(7)
    client = redis.Redis.from_url(args.redis, decode_responses=True)
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    streams = {
        "stream": f"{prefix}:events",
        "alerts_stream": f"{prefix}:alerts",
        "notifications_stream": f"{prefix}:notifications",
        "deadletter_stream": f"{prefix}:deadletter",
    }
    rules = rule_set(args.rules)
    try:
        with database(args.database) as engine:
            households = populate(engine, args.persons)
            analyze(engine)
            settings = RulesSettings.load(
                None,
                database={"url": engine.url.render_as_string(hide_password=False)},
                rules={
                    **streams,
                    "key_prefix": f"{prefix}:rules",
                    "group_start": "0",
                    "consumer": "bench",
                    "coverage_cache_s": 30,
                },
            )
            consumer = RulesConsumer(settings, rules, make_sessionmaker(engine), client)
            consumer.ensure_group()
            print(
                f"{engine.url.get_backend_name()}: {2 * households} persons in {households} "
                f"households, {len(rules.enabled())} rules; mix: {MIX}"
            )
            p50, p99 = redis_rtt(client)
            print(f"Redis PING round trip (baseline): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
            mixed = [mixed_entry(households, rng) for _ in range(args.events)]
            rate = decisions(consumer, client, streams["stream"], mixed)
            print(f"decisions, the mix: {args.events:,} entries at {rate:,.0f}/s (one worker)")
            falls = [fall_entry(households, rng) for _ in range(args.events // 4)]
            rate = decisions(consumer, client, streams["stream"], falls)
            print(f"decisions, every entry an alert: {len(falls):,} falls at {rate:,.0f}/s")
            p99s = []
            for _ in range(args.runs):
                sent, found = latencies(
                    settings,
                    rules,
                    args.workers,
                    client,
                    args.rate,
                    args.seconds,
                    lambda: mixed_entry(households, rng),
                )
                p99s.append(_percentile(found, 0.99))
                print(
                    f"XADD → alert change published, the mix at {args.rate:,.0f} events/s for "
                    f"{args.seconds:.0f} s, {args.workers} worker(s): {sent:,} sent, "
                    f"{len(found):,} alert changes, p50 {statistics.median(found):.0f} ms, "
                    f"p99 {p99s[-1]:.0f} ms, max {max(found)} ms"
                )
            if args.runs > 1:
                print(f"p99 over {args.runs} runs: {min(p99s):.0f}–{max(p99s):.0f} ms")
    finally:
        client.delete(*streams.values(), *client.scan_iter(match=f"{prefix}:*", count=10_000))


if __name__ == "__main__":
    main()
