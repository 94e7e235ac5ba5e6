"""Run the demo: every service of a real deployment, on one machine, on sample video.

The broker and Redis are the configured ones when reachable, else embedded ones. The services
are the real `shouwang` commands as child processes — ingest, rules, notifier, API and an edge
agent with two cameras playing sample videos — with their logs in the demo folder. The
terminal shows alerts and events live; the dashboard and the guardian's page are in the
browser. Ctrl-C stops every process the demo started.
"""

import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from rich.console import Console

from edge.config import load_settings
from shouwang.settings import ServiceSettings
from shouwang_cli.demo.config import (
    STREAMS,
    database_url,
    edge_config,
    server_config,
    write_yaml,
)
from shouwang_cli.demo.inbox import Inbox
from shouwang_cli.demo.processes import ServiceProcess, wait_until
from shouwang_cli.demo.services import (
    Service,
    free_port,
    reachable,
    start_embedded_broker,
    start_embedded_redis,
)
from shouwang_cli.demo.village import (
    DemoLogin,
    ensure_logins,
    prepare_database,
    route_notifications,
)


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


def _api_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def _print_welcome(console: Console, port: int, logins: list[DemoLogin], workdir: Path) -> None:
    base = f"http://127.0.0.1:{port}"
    console.print(f"\n[b]Back-office dashboard[/b]  {base}/dashboard")
    console.print(f"[b]Guardian's phone page[/b]  {base}/guardian")
    console.print(f"[b]Sensors to assign[/b]      {base}/watchlist/devices")
    for login in logins:
        console.print(f"  {login.role}: {login.login} / {login.password}  ({login.page})")
    console.print(f"logs and config: {workdir}/logs, {workdir}/shouwang.yaml\n")


def run_demo(
    workdir: Path,
    *,
    embedded: bool = False,
    duration: float | None = None,
    api_port: int | None = None,
    live: bool = True,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Run everything until `stop` is set (Ctrl-C) or `duration` passes; return the counts."""
    from rich.live import Live

    from shouwang_cli.demo.display import LiveFeed, plain

    stop = stop or threading.Event()
    console = Console()
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    sessions = prepare_database(database_url(workdir))
    logins = ensure_logins(database_url(workdir))
    inbox = Inbox()
    route_notifications(sessions, inbox.url)
    console.print(f"demo village imported into {database_url(workdir)} (configs/demo/*.csv)")
    port = api_port or (8080 if not reachable("127.0.0.1", 8080) else free_port())
    with ExitStack() as stack:
        inbox.start()
        stack.callback(inbox.stop)
        services = stack.enter_context(demo_services(workdir, embedded=embedded))
        for service in (services.broker, services.redis):
            how = "started by the demo" if service.embedded else "already running"
            console.print(f"{service.name} at {service.host}:{service.port} ({how})")
        server = write_yaml(
            workdir / "shouwang.yaml",
            server_config(services.broker, services.redis, workdir, port),
        )
        edge = write_yaml(workdir / "edge.yaml", edge_config(services.broker, workdir))
        zone = ZoneInfo(load_settings(edge).timezone)  # the site's: the terminal's times
        inbox.zone = zone
        logs = workdir / "logs"
        children = [
            ServiceProcess("ingest", ["ingest", "-c", str(server)], logs / "ingest.log"),
            ServiceProcess("rules", ["rules", "run", "-c", str(server)], logs / "rules.log"),
            ServiceProcess("notifier", ["notify", "run", "-c", str(server)], logs / "notify.log"),
            ServiceProcess("api", ["api", "-c", str(server)], logs / "api.log"),
            ServiceProcess("edge agent", ["edge", "run", "-c", str(edge)], logs / "edge.log"),
            ServiceProcess("bridge", ["bridge", "run", "-c", str(server)], logs / "bridge.log"),
        ]
        for child in children:
            child.start()
            stack.callback(child.stop)
        wait_until(lambda: _api_up(port), children, timeout=90)
        bridge_log = logs / "bridge.log"
        wait_until(lambda: "subscribed" in bridge_log.read_text(errors="replace"), children, 60)
        sensors = ServiceProcess(
            "sensor simulator",
            ["bridge", "simulate", "-c", str(server), "--base", STREAMS.zigbee2mqtt],
            logs / "sensors.log",
        )
        sensors.start()
        stack.callback(sensors.stop)
        children.append(sensors)
        _print_welcome(console, port, logins, workdir)
        client = redis.Redis.from_url(services.redis_url, decode_responses=True)
        stack.callback(client.close)
        feed = LiveFeed(
            client,
            inbox=inbox,
            events_stream=STREAMS.events,
            alerts_stream=STREAMS.alerts,
            deadletter_stream=STREAMS.deadletter,
            header="yard and room cameras on sample video, Zigbee sensors simulated;"
            " Ctrl-C stops everything",
            zone=zone,
        )
        deadline = None if duration is None else time.monotonic() + duration

        def running() -> bool:
            return not stop.is_set() and (deadline is None or time.monotonic() < deadline)

        def step() -> None:
            feed.poll(block_ms=500)
            for child in children:
                child.check()

        if console.is_terminal:
            with Live(
                feed.render(console.size.height), console=console, transient=not live
            ) as view:
                while running():
                    step()
                    view.update(feed.render(console.size.height))
        else:
            console.print(f"times in {zone.key}; one line per alert, notification and event")
            while running():
                step()
                plain(console, feed)
        console.print("stopping …")
    console.print("demo stopped; every process it started has exited")
    return feed.counts
