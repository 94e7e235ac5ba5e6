"""From the frame where the edge confirms a fall to the push request leaving the notifier.

    python -m benchmarks.end_to_end [--falls 20] [--gap 4] [--database URL]

Everything is real and runs as its own process, as deployed: `edge run` with one camera per
fall, each playing the UR Fall sample clip (`samples/urfd-fall-01.mp4`) after a still lead-in
a few seconds longer than the previous camera's, so the falls come one after another; a private
Mosquitto with the project's tuning; `shouwang ingest`, `shouwang rules run` (the default rule
set) and `shouwang notify run` on the local Redis (names bench:*, removed afterwards) and a
fresh database (SQLite unless --database names PostgreSQL). The watch list, imported from CSV
as a grid worker would, has one elder living alone per camera, with a guardian whose channels
are `webpush` (a subscription whose endpoint is a local HTTP server acting as the push service)
and a webhook on the same server; the grid worker and duty office have webhooks too.

For each fall: from the fall event's `observed_at` (the edge stamps the confirming frame when
it starts analysing it) to the guardian's Web Push request arriving at the local server, with
the stages in between read from the streams (Redis entry ids and the ingest's receive time,
all from the one machine's clock).

Baseline, measured in the same run: the same hops doing no work — a QoS 1 message published
to the broker, taken by a plain subscriber that XADDs it, read by a blocking XREAD that XADDs it
to a second stream, read again and POSTed to the same local server.
"""

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import redis
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from benchmarks.edge_run import agent_config
from benchmarks.ingest_throughput import REDIS_URL, percentile
from benchmarks.notify_throughput import push_subscription
from benchmarks.rules_throughput import database
from benchmarks.scenes import staggered_falls
from records.db import make_sessionmaker
from records.feed import AlertChange, NotificationJob
from records.notifications import save_push_subscription
from records.people import Guardian
from records.watchlist_csv import import_csv
from shouwang.contracts import SensorReading, SensorType, build_topic
from shouwang_cli.demo.config import write_yaml
from shouwang_cli.demo.processes import ServiceProcess, wait_until
from tests.helpers.mosquitto import running_mosquitto

console = Console()
ROOT = Path(__file__).resolve().parents[1]
SITE = "bench-village"
LEAD_S = 10.0
"""Still lead-in of the first camera: the agent loads its models meanwhile."""


class Receiver:
    """A local HTTP server standing in for the push service and the webhooks: notes when each
    request arrives (before reading its body) and accepts it."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                arrived = time.time()
                with receiver._lock:
                    receiver.arrivals.setdefault(self.path, []).append(arrived)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def first(self, path: str) -> float | None:
        with self._lock:
            times = self.arrivals.get(path)
            return times[0] if times else None

    def __enter__(self) -> "Receiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def watchlist_csvs(falls: int, hooks: str) -> dict[str, str]:
    """A county → town → village → grid, a grid worker and a duty office, and per camera an
    elder living alone with a guardian (Web Push and a webhook)."""
    persons = [
        f"E{k:02d},老人{k},elder,1940,3,yes,,,H{k:02d},{k}号,B03,{SITE},,cam-fall-{k:02d}"
        for k in range(falls)
    ]
    guardians = [
        f"E{k:02d},家属{k},1390000{k:04d},女儿,webpush;json://{hooks}/hook/guardian-{k}"
        for k in range(falls)
    ]
    return {
        "areas": "code,name,level,parent_code\nB00,测试县,county,\nB01,测试镇,town,B00\n"
        "B02,测试村,village,B01\nB03,测试网格,grid,B02\n",
        "sites": f"code,name,area_code\n{SITE},测试站点,B02\n",
        "staff": "code,name,phone,role,area_code,channels,active\n"
        f"gw-1,网格员,13800000000,grid_worker,B03,json://{hooks}/hook/grid-worker,yes\n"
        f"duty-1,值班室,0856-5000000,duty_officer,B01,json://{hooks}/hook/duty,yes\n",
        "persons": "code,name,category,birth_year,risk_level,lives_alone,conditions,notes,"
        "household_code,address,grid_code,site,person_sources,household_sources\n"
        + "\n".join(persons)
        + "\n",
        "guardians": "person_code,name,phone,relation,channels\n" + "\n".join(guardians) + "\n",
    }


def prepare_records(engine: Any, falls: int, receiver: Receiver) -> dict[int, int]:
    """Import the watch list and subscribe each guardian's 'phone'; returns guardian id → k."""
    sessions = make_sessionmaker(engine)
    for kind, text in watchlist_csvs(falls, receiver.base).items():
        with sessions.begin() as session:
            report = import_csv(session, kind, text.encode())
            if not report.ok:
                raise RuntimeError(f"benchmark {kind} CSV did not import: {report.summary()}")
    guardians = {}
    with sessions.begin() as session:
        for k in range(falls):
            guardian = session.scalar(select(Guardian).where(Guardian.phone == f"1390000{k:04d}"))
            assert guardian is not None
            endpoint = f"http://{receiver.base}/push/guardian-{k}"
            save_push_subscription(session, "guardian", guardian.id, push_subscription(endpoint))
            guardians[guardian.id] = k
    return guardians


class Names:
    """This run's Redis names (`bench:<uid>:…`)."""

    def __init__(self) -> None:
        self.uid = uuid.uuid4().hex[:8]
        prefix = f"bench:{self.uid}"
        self.prefix = prefix
        self.events, self.deadletter = f"{prefix}:events", f"{prefix}:deadletter"
        self.alerts, self.notifications = f"{prefix}:alerts", f"{prefix}:notifications"
        self.rules, self.notify = f"{prefix}:rules", f"{prefix}:notify"
        self.floor_in, self.floor_out = f"{prefix}:floor-in", f"{prefix}:floor-out"

    def cleanup(self, client: redis.Redis) -> None:
        """Delete every key of this run."""
        keys = list(client.scan_iter(match=f"{self.prefix}:*", count=10_000))
        if keys:
            client.delete(*keys)


def server_config(broker_port: int, database_url: str, names: Names, tmp: Path) -> dict[str, Any]:
    """One config file for ingest, rules and the notifier (each reads its sections)."""
    return {
        "mqtt": {"host": "127.0.0.1", "port": broker_port},
        "redis": {"url": REDIS_URL},
        "database": {"url": database_url},
        "log_level": "INFO",
        "ingest": {
            "worker_id": f"bench-{names.uid}",
            "topic_filter": f"shouwang/v1/{SITE}/#",
            "share_group": f"bench{names.uid}",
            "stream": names.events,
            "deadletter_stream": names.deadletter,
            "snapshot_dir": str(tmp / "snapshots"),
            "metrics_port": 0,
            "session_expiry_s": 600,
            "broker_stats": False,
        },
        "rules": {
            "file": str(ROOT / "configs" / "rules.yaml"),
            "stream": names.events,
            "group": "rules",
            "group_start": "0",
            "consumer": "rules-1",
            "deadletter_stream": names.deadletter,
            "alerts_stream": names.alerts,
            "notifications_stream": names.notifications,
            "key_prefix": names.rules,
            "metrics_port": 0,
        },
        "notify": {
            "stream": names.notifications,
            "group": "notifier",
            "group_start": "0",
            "consumer": "notifier-1",
            "deadletter_stream": names.deadletter,
            "key_prefix": names.notify,
            "metrics_port": 0,
        },
        "notify_webpush": {"endpoint_hosts": ["127.0.0.1"]},
    }


def has_group(client: redis.Redis, stream: str, group: str) -> bool:
    try:
        return any(g["name"] == group for g in client.xinfo_groups(stream))
    except redis.ResponseError:
        return False


def ingest_live(port: int, client: redis.Redis, stream: str) -> Callable[[], bool]:
    """A check that publishes a harmless reading and is true once ingest has stored one."""
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{uuid.uuid4()}")
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()

    def check() -> bool:
        if client.xlen(stream):
            publisher.disconnect()
            publisher.loop_stop()
            return True
        reading = SensorReading(
            schema_version=1,
            reading_id=str(uuid.uuid4()),
            site=SITE,
            device="probe",
            sensor_type=SensorType.TEMPERATURE,
            observed_at=datetime.now(UTC),
            value=21.0,
        )
        topic = build_topic(SITE, "probe", "sensor")
        publisher.publish(topic, reading.model_dump_json(), qos=1)
        time.sleep(0.3)
        return False

    return check


@dataclass
class Fall:
    """The stages of one fall, as epoch seconds."""

    camera: int
    observed: float
    event_id: str = ""
    queued: float | None = None
    received: float | None = None
    stored: float | None = None
    alert: float | None = None
    job: float | None = None
    push: float | None = None
    hook: float | None = None

    def ms(self, end: float | None, start: float | None = None) -> float | None:
        start = self.observed if start is None else start
        return None if end is None or start is None else 1000 * (end - start)


STAGES = {
    "queued": "in the edge's queue",
    "received": "ingest received",
    "stored": "in the stream",
    "alert": "alert committed",
    "job": "job queued",
    "push": "push arrived",
    "hook": "webhook arrived",
}
"""A fall's stages, each timed from the confirming frame."""


def stream_time(entry_id: str) -> float:
    return int(entry_id.split("-")[0]) / 1000


def queued_times(edge_log: Path) -> dict[str, float]:
    """When the agent had stored each event in its queue (its `event.queued` log lines)."""
    found = {}
    for line in edge_log.read_text(errors="replace").splitlines():
        if '"event.queued"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        stamp = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
        found[record["event_id"]] = stamp.timestamp()
    return found


def collect(
    client: redis.Redis,
    names: Names,
    receiver: Receiver,
    guardians: dict[int, int],
    edge_log: Path,
) -> list[Fall]:
    """Each camera's first fall and its stages, from the edge's log, the streams and the
    receiver."""
    queued = queued_times(edge_log)
    falls: dict[int, Fall] = {}
    alert_of_entry: dict[str, int] = {}
    for entry_id, fields in client.xrange(names.events):
        if fields.get("type") != "fall" or fields.get("phase") != "start":
            continue
        payload = json.loads(fields["payload"])
        camera = int(payload["camera"].rsplit("-", 1)[1])
        if camera in falls:
            continue
        falls[camera] = Fall(
            camera,
            datetime.fromisoformat(payload["observed_at"]).timestamp(),
            payload["event_id"],
            queued.get(payload["event_id"]),
            int(fields["received_ms"]) / 1000,
            stream_time(entry_id),
        )
        alert_of_entry[entry_id] = camera
    alert_camera: dict[int, int] = {}
    for entry_id, fields in client.xrange(names.alerts):
        change = AlertChange.from_fields(fields)
        camera = alert_of_entry.get(change.entry_id)
        if camera is not None and falls[camera].alert is None:
            falls[camera].alert = stream_time(entry_id)
            alert_camera[change.alert_id] = camera
    for entry_id, fields in client.xrange(names.notifications):
        job = NotificationJob.from_fields(fields)
        camera = alert_camera.get(job.alert_id)
        if camera is None or job.recipient_type != "guardian" or job.step != 0:
            continue
        if guardians.get(job.recipient_id) == camera and falls[camera].job is None:
            falls[camera].job = stream_time(entry_id)
    for camera, fall in falls.items():
        fall.push = receiver.first(f"/push/guardian-{camera}")
        fall.hook = receiver.first(f"/hook/guardian-{camera}")
    return sorted(falls.values(), key=lambda f: f.camera)


def transport_floor(
    broker_port: int, receiver: Receiver, names: Names, count: int, interval_s: float
) -> list[float]:
    """ms from publishing at QoS 1 to the receiver, through a subscriber that XADDs, a reader
    that XADDs to a second stream, and a reader that POSTs: the pipeline's hops, no work."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    first, second = names.floor_in, names.floor_out
    stop = threading.Event()

    def relay(source: str, deliver: Callable[[str], None]) -> None:
        last = "$"
        while not stop.is_set():
            for _, entries in client.xread({source: last}, block=200) or []:
                for entry_id, fields in entries:
                    last = entry_id
                    deliver(fields["id"])

    def post(message_id: str) -> None:
        request = urllib.request.Request(
            f"http://{receiver.base}/floor/{message_id}", data=b"{}", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()

    threads = [
        threading.Thread(target=relay, args=(first, lambda i: client.xadd(second, {"id": i}))),
        threading.Thread(target=relay, args=(second, post)),
    ]
    subscriber = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-floor-{names.uid}")
    subscribed = threading.Event()
    subscriber.on_subscribe = lambda *_a: subscribed.set()
    subscriber.on_message = lambda _c, _u, m: client.xadd(first, {"id": m.payload.decode()})
    subscriber.connect("127.0.0.1", broker_port)
    subscriber.subscribe(f"bench/{names.uid}/floor", qos=1)
    subscriber.loop_start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-floorpub-{names.uid}")
    publisher.connect("127.0.0.1", broker_port)
    publisher.loop_start()
    for thread in threads:
        thread.start()
    subscribed.wait(10)
    time.sleep(0.5)  # the readers block on their streams
    sent = {}
    try:
        for n in range(count):
            message_id = f"m{n}"
            sent[message_id] = time.time()
            publisher.publish(f"bench/{names.uid}/floor", message_id, qos=1)
            time.sleep(interval_s)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and receiver.first(f"/floor/m{count - 1}") is None:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
        for client_ in (publisher, subscriber):
            client_.disconnect()
            client_.loop_stop()
        client.close()
    found = [(receiver.first(f"/floor/{m}"), t) for m, t in sent.items()]
    return sorted(1000 * (arrived - t) for arrived, t in found if arrived is not None)


@dataclass
class EndToEnd:
    """One run: the falls staged, those confirmed and their stages, and the baseline."""

    staged: int
    falls: list[Fall]
    floor: list[float]

    def latencies(self, stage: str = "push") -> list[float]:
        values = [f.ms(getattr(f, stage)) for f in self.falls]
        return sorted(v for v in values if v is not None)


@contextmanager
def services(
    broker_port: int, database_url: str, names: Names, tmp: Path, client: redis.Redis
) -> Iterator[list[ServiceProcess]]:
    """Ingest, rules and the notifier as child processes, ready when the block starts."""
    config = write_yaml(tmp / "shouwang.yaml", server_config(broker_port, database_url, names, tmp))
    logs = tmp / "logs"
    children = [
        ServiceProcess("ingest", ["ingest", "-c", str(config)], logs / "ingest.log"),
        ServiceProcess("rules", ["rules", "run", "-c", str(config)], logs / "rules.log"),
        ServiceProcess("notifier", ["notify", "run", "-c", str(config)], logs / "notify.log"),
    ]
    with ExitStack() as stack:
        for child in children:
            child.start()
            stack.callback(child.stop)
        wait_until(lambda: has_group(client, names.events, "rules"), children, 90)
        wait_until(lambda: has_group(client, names.notifications, "notifier"), children, 90)
        wait_until(ingest_live(broker_port, client, names.events), children, 90)
        yield children


def run(
    falls: int,
    gap_s: float,
    database_url: str | None = None,
    *,
    floor_count: int = 100,
    keep: Path | None = None,
    say: Callable[[str], None] = console.print,
) -> EndToEnd:
    """Stage `falls` falls `gap_s` apart and follow each to the guardian's push (`keep`: a
    folder to leave the services' logs and configs in)."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    names = Names()
    with (
        tempfile.TemporaryDirectory() as scratch,
        Receiver() as receiver,
        running_mosquitto(Path(scratch) / "broker", tuned=True) as broker,
        database(database_url) as engine,
    ):
        tmp = keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        try:
            say(f"end to end: {floor_count} messages through the bare hops (baseline) …")
            floor = transport_floor(broker.port, receiver, names, floor_count, 0.05)
            say(f"end to end: writing {falls} camera videos …")
            videos = staggered_falls(tmp, falls, lead_s=LEAD_S, gap_s=gap_s)
            guardians = prepare_records(engine, falls, receiver)
            url = str(engine.url.render_as_string(hide_password=False))
            say("end to end: starting ingest, rules and the notifier …")
            with services(broker.port, url, names, tmp, client) as children:
                cameras = [
                    {"id": f"cam-fall-{k:02d}", "source": str(video), "detect_fps": 5}
                    for k, video in enumerate(videos)
                ]
                config = agent_config(tmp / "edge", cameras, broker.port)
                config["site"] = SITE
                (tmp / "edge").mkdir()
                edge_yaml = write_yaml(tmp / "edge" / "edge.yaml", config)
                edge = ServiceProcess(
                    "edge", ["edge", "run", "-c", str(edge_yaml)], tmp / "edge.log"
                )
                say(f"end to end: edge agent with {falls} cameras, a fall every {gap_s:.0f} s …")
                edge.start()
                try:
                    deadline = time.monotonic() + LEAD_S + falls * gap_s + 45
                    paths = [f"/push/guardian-{k}" for k in range(falls)]
                    while time.monotonic() < deadline:
                        if all(receiver.first(p) is not None for p in paths):
                            break
                        for child in [*children, edge]:
                            child.check()
                        time.sleep(0.5)
                    time.sleep(1.0)  # webhooks of the last fall
                finally:
                    edge.stop()
            found = collect(client, names, receiver, guardians, tmp / "edge.log")
        finally:
            names.cleanup(client)
            client.close()
    return EndToEnd(falls, found, floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--falls", type=int, default=20, help="falls (one camera each)")
    parser.add_argument("--gap", type=float, default=4.0, help="seconds between falls")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--keep", type=Path, help="leave logs, configs and videos in this folder")
    args = parser.parse_args()
    result = run(args.falls, args.gap, args.database, keep=args.keep)
    table = Table(title="fall confirmed on the edge → guardian's push request (ms)")
    table.add_column("camera", justify="right")
    for column in STAGES.values():
        table.add_column(column, justify="right")

    def cell(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    for fall in result.falls:
        table.add_row(str(fall.camera), *(cell(fall.ms(getattr(fall, s))) for s in STAGES))
    console.print(table)
    pushes = result.latencies("push")
    console.print(
        f"{len(result.falls)}/{result.staged} falls confirmed, {len(pushes)} pushes"
        + (
            f": p50 {statistics.median(pushes):.0f} ms, p99 {percentile(pushes, 0.99):.0f} ms"
            if pushes
            else ""
        )
        + f"; bare hops p50 {statistics.median(result.floor):.1f} ms, "
        f"p99 {percentile(result.floor, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    main()
