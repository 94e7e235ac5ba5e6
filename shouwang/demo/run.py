"""Run the demo: services, ingest, rules and an edge agent on sample video, with a live view.

Every part is the real one (broker, Redis, ingest worker, edge agent with the ONNX models,
rules worker with a SQLite database); the demo only chooses settings so that it all fits on
one machine with nothing installed. Its Redis streams are named `demo:*`, so running it
against a configured Redis never mixes with real data.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import redis
import structlog

from ingest.config import IngestSettings
from ingest.worker import IngestWorker
from shouwang.demo.services import (
    Service,
    reachable,
    start_embedded_broker,
    start_embedded_redis,
)
from shouwang.demo.village import DEMO_RULES, database_url, prepare_database
from shouwang.settings import ServiceSettings

if TYPE_CHECKING:
    from edge.config import EdgeSettings
    from rules.config import RulesSettings

log = structlog.get_logger("shouwang.demo")

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
DEMO_SITE = "demo-village"


@dataclass(frozen=True)
class DemoStreams:
    """The demo's own Redis names."""

    events: str = "demo:events"
    deadletter: str = "demo:deadletter"
    alerts: str = "demo:alerts"
    notifications: str = "demo:notifications"
    rules_prefix: str = "demo:rules"


STREAMS = DemoStreams()


@dataclass
class DemoServices:
    """The broker and Redis the demo runs against."""

    broker: Service
    redis: Service

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis.host}:{self.redis.port}/0"


def _redis_target(url: str) -> tuple[str, int]:
    client = redis.Redis.from_url(url)
    kwargs = client.connection_pool.connection_kwargs
    client.close()
    return str(kwargs.get("host", "127.0.0.1")), int(kwargs.get("port", 6379))


@contextmanager
def demo_services(workdir: Path, *, embedded: bool = False) -> Iterator[DemoServices]:
    """The configured broker and Redis when reachable (and not `embedded`), else embedded."""
    configured = ServiceSettings.load(None)
    with ExitStack() as stack:
        mqtt = configured.mqtt
        if not embedded and reachable(mqtt.host, mqtt.port):
            broker = Service("MQTT broker (configured)", mqtt.host, mqtt.port)
        else:
            broker = start_embedded_broker(workdir / "broker")
            stack.callback(broker.stop)
        host, port = _redis_target(configured.redis.url)
        if not embedded and reachable(host, port):
            redis_service = Service("Redis (configured)", host, port)
        else:
            redis_service = start_embedded_redis(workdir / "redis")
            stack.callback(redis_service.stop)
        yield DemoServices(broker, redis_service)


def ingest_settings(services: DemoServices, workdir: Path) -> IngestSettings:
    """One ingest worker; a plain subscription on the embedded broker (no shared ones)."""
    embedded = services.broker.embedded
    return IngestSettings.load(
        None,
        mqtt={"host": services.broker.host, "port": services.broker.port},
        redis={"url": services.redis_url},
        ingest={
            "worker_id": "demo-ingest",
            "topic_filter": f"shouwang/v1/{DEMO_SITE}/#",
            "share_group": None if embedded else "demo",
            "protocol": "3.1.1" if embedded else "5",
            "stream": STREAMS.events,
            "deadletter_stream": STREAMS.deadletter,
            "snapshot_dir": str(workdir / "snapshots"),
            "metrics_port": 0,
            "broker_stats": not embedded,
            "session_expiry_s": 3600,
        },
    )


def rules_settings(services: DemoServices, workdir: Path) -> "RulesSettings":
    """One rules worker on the demo's streams and SQLite database."""
    from rules.config import RulesSettings

    return RulesSettings.load(
        None,
        redis={"url": services.redis_url},
        database={"url": database_url(workdir)},
        rules={
            "file": str(DEMO_RULES),
            "stream": STREAMS.events,
            "group": "demo-rules",
            "group_start": "0",
            "consumer": "demo-rules-1",
            "deadletter_stream": STREAMS.deadletter,
            "alerts_stream": STREAMS.alerts,
            "notifications_stream": STREAMS.notifications,
            "key_prefix": STREAMS.rules_prefix,
        },
    )


def edge_settings(services: DemoServices, workdir: Path) -> "EdgeSettings":
    """Two cameras playing sample video in real time: the yard and the elder's room."""
    from edge.config import load_settings

    return load_settings(
        None,
        edge_id="demo-edge",
        site=DEMO_SITE,
        mqtt={"host": services.broker.host, "port": services.broker.port},
        publish={
            "queue_path": str(workdir / "edge" / "outbox.sqlite3"),
            "replay_jitter_s": 0,
            "heartbeat_interval_s": 5,
            "mqtt_version": "3.1.1" if services.broker.embedded else "5",
        },
        cameras=[
            {
                "id": "cam-yard",
                "source": str(SAMPLES / "intel-one-by-one.mp4"),
                "detect_fps": 5,
                "zones": {"yard": {"polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "tags": ["home"]}},
                "loitering": {"loitering_s": 8},
            },
            {
                "id": "cam-room",
                "source": str(SAMPLES / "urfd-fall-01.mp4"),
                "detect_fps": 5,
                "loitering": {"enabled": False},
            },
        ],
    )


@contextmanager
def running_ingest(settings: IngestSettings) -> Iterator[IngestWorker]:
    """An ingest worker on a background thread, subscribed when the block starts."""
    worker = IngestWorker(settings)
    thread = threading.Thread(target=worker.run, name="demo-ingest", daemon=True)
    thread.start()
    if not worker.wait_subscribed(30):
        worker.stop()
        raise RuntimeError("ingest could not subscribe to the broker within 30 s")
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(15)


@contextmanager
def running_rules(settings: "RulesSettings") -> Iterator[None]:
    """A rules worker on a background thread."""
    from rules.definitions import load_rules
    from rules.service import build_consumer

    consumer = build_consumer(settings, load_rules(settings.rules.file))
    thread = threading.Thread(target=consumer.run, name="demo-rules", daemon=True)
    thread.start()
    try:
        yield
    finally:
        consumer.stop()
        thread.join(30)


def run_demo(
    workdir: Path,
    *,
    embedded: bool = False,
    duration: float | None = None,
    live: bool = True,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Run everything until `stop` is set (Ctrl-C) or `duration` passes; return the counts."""
    from rich.console import Console
    from rich.live import Live

    from edge.agent import EdgeAgent
    from shouwang.demo.display import LiveFeed

    stop = stop or threading.Event()
    console = Console()
    workdir.mkdir(parents=True, exist_ok=True)
    prepare_database(database_url(workdir))
    console.print(f"demo village imported into {database_url(workdir)} (configs/demo/*.csv)")
    with ExitStack() as stack:
        services = stack.enter_context(demo_services(workdir, embedded=embedded))
        for service in (services.broker, services.redis):
            how = "started by the demo" if service.embedded else "already running"
            console.print(f"{service.name} at {service.host}:{service.port} ({how})")
        stack.enter_context(running_ingest(ingest_settings(services, workdir)))
        stack.enter_context(running_rules(rules_settings(services, workdir)))
        agent = EdgeAgent(edge_settings(services, workdir))
        agent.start()
        stack.callback(agent.stop)
        client = redis.Redis.from_url(services.redis_url, decode_responses=True)
        stack.callback(client.close)
        feed = LiveFeed(
            client,
            events_stream=STREAMS.events,
            alerts_stream=STREAMS.alerts,
            deadletter_stream=STREAMS.deadletter,
            header="[b]cameras[/b] cam-yard ← intel-one-by-one.mp4, cam-room ← urfd-fall-01.mp4"
            f" · [b]broker[/b] {services.broker.host}:{services.broker.port}"
            f" · [b]redis[/b] {services.redis_url}\nCtrl-C stops every process the demo started.",
        )
        deadline = None if duration is None else time.monotonic() + duration
        with Live(feed.render(), console=console, refresh_per_second=4, transient=not live) as view:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                feed.poll(block_ms=500)
                view.update(feed.render())
        console.print("stopping …")
    console.print("demo stopped; every process it started has exited")
    return feed.counts
