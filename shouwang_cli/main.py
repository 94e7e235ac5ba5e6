"""The `shouwang` command line: one entry point for every stage."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from alert_api.cli import serve as api_serve
from alert_api.cli import users_app
from cameras.cli import camera_events, gb28181
from edge.cli import edge_app, models_app
from ingest.cli import ingest, snapshots_app
from notify.cli import notify_app
from records.cli import db_app, devices_app, watchlist_app
from rules.cli import rules_app
from shouwang.cli_helpers import ConfigOption, JsonLogsOption, console, fail
from shouwang.contracts import MessageKind, build_topic
from shouwang.contracts.examples import example
from shouwang.contracts.schema_export import export_schemas

if TYPE_CHECKING:
    from shouwang.health import HealthReport

app = typer.Typer(
    name="shouwang",
    help="Shouwang (守望): video and IoT risk alerts for left-behind elders and children.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
contracts_app = typer.Typer(help="The MQTT wire contract: JSON Schemas and example payloads.")
app.add_typer(contracts_app, name="contracts")
config_app = typer.Typer(help="Configuration: the reference of every setting.")
app.add_typer(config_app, name="config")
app.add_typer(edge_app, name="edge")
app.add_typer(rules_app, name="rules")
app.add_typer(db_app, name="db")
app.add_typer(watchlist_app, name="watchlist")
app.add_typer(devices_app, name="devices")
bridge_app = typer.Typer(help="The sensor bridge: Zigbee2MQTT and Home Assistant devices in.")
app.add_typer(bridge_app, name="bridge")
app.add_typer(notify_app, name="notify")
app.add_typer(users_app, name="users")
app.command("api")(api_serve)
app.command("ingest")(ingest)
app.command("gb28181")(gb28181)
app.command("camera-events")(camera_events)
broker_app = typer.Typer(help="Broker administration: device ACLs.")
app.add_typer(broker_app, name="broker")
app.add_typer(snapshots_app, name="snapshots")
app.add_typer(models_app, name="models")


@contracts_app.command("export")
def contracts_export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the schema files into.")],
) -> None:
    """Write one JSON Schema file per message kind, for vendors validating their publishers."""
    for path in export_schemas(directory):
        console.print(f"wrote {path}")


@contracts_app.command("example")
def contracts_example(
    kind: Annotated[MessageKind, typer.Argument(help="Message kind.")],
    site: Annotated[str, typer.Option(help="Site id.")] = "tongren-bijiang-01",
    source: Annotated[
        str | None, typer.Option(help="Camera, device or edge id (default depends on kind).")
    ] = None,
) -> None:
    """Print a valid example payload; its topic goes to stderr. Pipe it into mosquitto_pub."""
    default_source = {
        MessageKind.EVENT: "cam-01",
        MessageKind.SNAPSHOT: "cam-01",
        MessageKind.SENSOR: "sos-01",
    }.get(kind, "edge-01")
    message = example(kind, site=site, source=source or default_source)
    console.print(f"topic: {build_topic(message.site, message.source, kind)}")
    typer.echo(json.dumps(message.model_dump(mode="json"), ensure_ascii=False))


@bridge_app.command("run")
def bridge_run(config: ConfigOption = None, json_logs: JsonLogsOption = None) -> None:
    """Read Zigbee2MQTT and Home Assistant devices, publish their readings on the wire
    contract; the device table comes from the records database (`database:`)."""
    from records.db import make_engine, make_sessionmaker
    from records.device_registry import RecordsDeviceDirectory
    from records.migrate import SchemaOutdated, require_current
    from records.settings import RecordsSettings
    from sensorbridge.config import BridgeSettings
    from sensorbridge.service import run_bridge
    from shouwang.logs import configure_logging
    from shouwang.metrics_http import MetricsPortBusy
    from shouwang.settings import ConfigError

    try:
        settings = BridgeSettings.load(config)
        database = RecordsSettings.load(config).database
        engine = make_engine(database.url, echo=database.echo)
        require_current(engine)
    except (ConfigError, SchemaOutdated) as exc:
        raise fail(str(exc)) from None
    configure_logging(settings.log_level, json_logs)
    try:
        run_bridge(settings, RecordsDeviceDirectory(make_sessionmaker(engine)))
    except MetricsPortBusy as exc:
        raise fail(str(exc)) from None


@bridge_app.command("simulate")
def bridge_simulate(
    config: ConfigOption = None,
    base: Annotated[str, typer.Option(help="Zigbee2MQTT base topic to publish under.")] = (
        "zigbee2mqtt"
    ),
    timezone: Annotated[str, typer.Option(help="Local time of the simulated morning.")] = (
        "Asia/Shanghai"
    ),
    sos_after: Annotated[
        float, typer.Option(min=0, help="Seconds until the SOS button is pressed.")
    ] = 20.0,
    json_logs: JsonLogsOption = None,
) -> None:
    """Publish a demo elder's Zigbee sensors as Zigbee2MQTT would (Aqara door and motion
    sensors, a Tuya SOS button; configs/demo/devices.csv): a morning without activity, then an
    SOS press, a sensor nobody assigned, and check-ins every minute, until Ctrl-C."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from sensorbridge.config import BridgeSettings
    from sensorbridge.service import run_simulator
    from shouwang.logs import configure_logging
    from shouwang.settings import ConfigError

    try:
        settings = BridgeSettings.load(config)
        ZoneInfo(timezone)
    except (ConfigError, ZoneInfoNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
    configure_logging(settings.log_level, json_logs)
    run_simulator(settings, base=base, timezone=timezone, sos_after_s=sos_after)


@app.command("health")
def health(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Show ingest workers, broker loss, stream backlog and edge agents, from Redis."""
    import redis

    from shouwang.health import read_health
    from shouwang.redis_client import connect
    from shouwang.settings import ConfigError, ServiceSettings

    try:
        settings = ServiceSettings.load(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    client = connect(settings.redis, socket_timeout=5)
    try:
        report = read_health(client)
    except redis.RedisError as exc:
        raise fail(f"cannot read health from Redis at {settings.redis.url}: {exc}") from None
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    _print_health(report)


def _print_health(report: "HealthReport") -> None:
    from rich.table import Table

    out = Console()
    workers = Table(title="Ingest workers")
    for column in ("worker", "alive", "broker", "queue", "received", "accepted", "dup", "dead"):
        workers.add_column(column)
    for w in report.workers:
        workers.add_row(
            w.worker,
            "yes"
            if w.alive
            else ("stopped" if w.stopped else f"[red]silent {w.last_beat_age_s:.0f}s[/red]"),
            "connected" if w.connected else ("-" if w.stopped else "[red]disconnected[/red]"),
            str(w.queue_depth),
            *(str(w.counts.get(k, 0)) for k in ("received", "accepted", "duplicates")),
            str(w.counts.get("deadlettered", 0)),
        )
    out.print(workers)
    dropped = report.broker_dropped
    colour = "green" if not dropped else "red"
    out.print(
        f"broker messages dropped (since broker start): [{colour}]"
        f"{'unknown' if dropped is None else f'{dropped:,.0f}'}[/{colour}]"
    )
    streams = Table(title="Streams")
    for column in ("stream", "length", "newest", "consumer groups (pending / lag)", "reasons"):
        streams.add_column(column)
    for s in report.streams:
        groups = ", ".join(f"{g['name']} ({g['pending']} / {g['lag']})" for g in s.groups)
        reasons = ", ".join(f"{k}×{v}" for k, v in s.recent_reasons.items())
        newest = "-" if s.newest_age_s is None else f"{s.newest_age_s:.0f}s ago"
        streams.add_row(s.name, str(s.length), newest, groups or "-", reasons or "-")
    out.print(streams)
    edges = Table(title="Edge agents")
    for column in ("site", "edge", "status", "last seen", "fps", "queued", "evicted", "cameras"):
        edges.add_column(column)
    for e in report.edges:
        status = e.status if e.alive else f"[red]{e.status}[/red]"
        cameras = ", ".join(f"{name}:{state}" for name, state in e.cameras.items())
        edges.add_row(
            e.site,
            e.edge,
            status,
            f"{e.last_seen_age_s:.0f}s ago",
            "-" if e.fps is None else f"{e.fps:.1f}",
            "-" if e.queue_depth is None else str(e.queue_depth),
            "-" if not e.evicted else f"[red]{e.evicted}[/red]",
            cameras or "-",
        )
    out.print(edges)


CONFIG_REFERENCE_HEADER = """# Configuration reference

Generated from the settings models by `shouwang config reference > docs/configuration.md`
(a test checks it is current). Every back-office service reads a YAML file (`--config FILE`
or `$SHOUWANG_CONFIG`) holding the sections below; environment variables override the file,
e.g. `SHOUWANG_MQTT__HOST=broker.local`. Unknown keys inside a section are errors, so typos
do not pass silently; sections a service does not use are ignored by it, so one file can serve
ingest, rules and the API. The edge agent has its own file: see [edge.md](edge.md).
"""


@config_app.command("reference")
def config_reference() -> None:
    """Print the configuration reference (Markdown) generated from the settings models."""
    from alert_api.settings import ApiSettings
    from cameras.config import CamerasSettings
    from ingest.config import IngestSettings
    from notify.settings import NotifierSettings
    from rules.config import RulesSettings
    from sensorbridge.config import BridgeSettings
    from shouwang_cli.config_docs import settings_reference

    typer.echo(CONFIG_REFERENCE_HEADER)
    typer.echo(settings_reference("Ingest (`shouwang ingest`)", IngestSettings, "SHOUWANG_"))
    typer.echo(settings_reference("Rules (`shouwang rules run`)", RulesSettings, "SHOUWANG_"))
    typer.echo(
        settings_reference("Sensor bridge (`shouwang bridge run`)", BridgeSettings, "SHOUWANG_")
    )
    typer.echo(
        settings_reference("Notifier (`shouwang notify run`)", NotifierSettings, "SHOUWANG_")
    )
    typer.echo(settings_reference("Alert API (`shouwang api`)", ApiSettings, "SHOUWANG_"))
    typer.echo(
        settings_reference(
            "Camera gateways (`shouwang gb28181`, `shouwang camera-events`)",
            CamerasSettings,
            "SHOUWANG_",
        )
    )


@app.command("demo")
def demo(
    workdir: Annotated[
        Path, typer.Option(help="Folder for the demo's data (queue, snapshots, Redis AOF).")
    ] = Path("demo-data"),
    embedded: Annotated[
        bool,
        typer.Option(help="Use the embedded broker and Redis even if configured ones run."),
    ] = False,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port of the dashboard (default: 8080, or a free one).")
    ] = None,
) -> None:
    """The whole system on sample video: edge agent, broker, ingest, rules, notifier, API."""
    import signal
    import threading

    from shouwang.logs import configure_logging
    from shouwang_cli.demo.run import run_demo

    configure_logging("WARNING", json=False)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        counts = run_demo(workdir, embedded=embedded, duration=duration, api_port=port, stop=stop)
    except RuntimeError as exc:
        raise fail(str(exc)) from None
    summary = ", ".join(f"{kind}: {count}" for kind, count in sorted(counts.items()))
    typer.echo(f"stored on the events stream during the demo: {summary or 'nothing'}")


@broker_app.command("acl")
def broker_acl(
    edge_configs: Annotated[
        list[Path], typer.Argument(help="Edge agent config files (one per edge box).")
    ],
    ingest_user: Annotated[str, typer.Option(help="MQTT user of the ingest workers.")] = "ingest",
    gateway: Annotated[
        list[str] | None,
        typer.Option(help="USER:SITE of an IoT gateway publishing sensor readings (repeatable)."),
    ] = None,
    camera_gateway: Annotated[
        list[str] | None,
        typer.Option(
            help="USER:SITE[,SITE…] of a camera-event gateway (GB/T 28181, Hikvision, Dahua)."
        ),
    ] = None,
    sensor_bridge: Annotated[
        list[str] | None,
        typer.Option(
            help="USER[:BASE,BASE…] of the sensor bridge (base topics default: zigbee2mqtt)."
        ),
    ] = None,
) -> None:
    """Print a Mosquitto acl_file: ingest reads all, each edge box writes only its own topics."""
    from edge.config import load_settings
    from shouwang.settings import ConfigError
    from shouwang_cli.acl import (
        acl_file,
        camera_gateway_entry,
        edge_entry,
        gateway_entry,
        ingest_entry,
        sensor_bridge_entry,
    )

    blocks = [ingest_entry(ingest_user)]
    for path in edge_configs:
        try:
            edge = load_settings(path)
        except ConfigError as exc:
            raise fail(str(exc)) from None
        blocks.append(edge_entry(edge.site, edge.edge_id, (c.id for c in edge.cameras)))
    for spec in gateway or []:
        user, _, site = spec.partition(":")
        if not user or not site:
            raise fail(f"--gateway {spec!r} must be USER:SITE")
        blocks.append(gateway_entry(user, site))
    for spec in camera_gateway or []:
        user, _, sites = spec.partition(":")
        if not user or not sites:
            raise fail(f"--camera-gateway {spec!r} must be USER:SITE[,SITE…]")
        blocks.append(camera_gateway_entry(user, sites.split(",")))
    for spec in sensor_bridge or []:
        user, _, bases = spec.partition(":")
        if not user:
            raise fail(f"--sensor-bridge {spec!r} must be USER[:BASE,BASE…]")
        blocks.append(sensor_bridge_entry(user, bases.split(",") if bases else ["zigbee2mqtt"]))
    typer.echo(acl_file(blocks))
