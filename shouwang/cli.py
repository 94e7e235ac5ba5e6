"""The `shouwang` command line: one entry point for every stage."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shouwang.contracts import MessageKind, build_topic
from shouwang.contracts.examples import example
from shouwang.contracts.schema_export import export_schemas

app = typer.Typer(
    name="shouwang",
    help="Shouwang (守望): video and IoT risk alerts for left-behind elders and children.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
contracts_app = typer.Typer(help="The MQTT wire contract: JSON Schemas and example payloads.")
app.add_typer(contracts_app, name="contracts")
console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"error: {message}", soft_wrap=True, highlight=False, markup=False, style="red")
    return typer.Exit(code=2)


ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: $SHOUWANG_CONFIG)."),
]


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


@app.command("ingest")
def ingest(
    config: ConfigOption = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes on the shared subscription.")
    ] = 1,
    worker_id: Annotated[
        str | None, typer.Option(help="This worker's stable id (default: ingest.worker_id).")
    ] = None,
    retire: Annotated[
        bool,
        typer.Option(
            help="Drain what the broker holds for --worker-id, store it, then end its session "
            "for good (use when removing a worker permanently)."
        ),
    ] = False,
    json_logs: Annotated[
        bool | None, typer.Option("--json-logs/--text-logs", help="Log format (default: auto).")
    ] = None,
) -> None:
    """Subscribe to MQTT, validate, de-duplicate and append to the Redis Stream."""
    from ingest.config import IngestSettings
    from ingest.service import run_worker, run_workers
    from shouwang.logs import configure_logging
    from shouwang.settings import ConfigError

    overrides = {"ingest": {"worker_id": worker_id}} if worker_id else {}
    try:
        settings = IngestSettings.load(config, **overrides)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    configure_logging(settings.log_level, json_logs)
    try:
        if retire:
            run_worker(settings, retire_after_idle_s=5.0)
        elif run_workers(settings, workers, json_logs):
            raise typer.Exit(code=1)
    except RuntimeError as exc:
        raise _fail(str(exc)) from None
