"""Command line of ingest: `shouwang ingest` (the workers) and `shouwang snapshots prune`; heavy
imports happen inside the commands."""

from typing import Annotated

import typer

from shouwang.cli_helpers import ConfigOption, JsonLogsOption, fail

snapshots_app = typer.Typer(help="Snapshot files stored by ingest: retention.")


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
    json_logs: JsonLogsOption = None,
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
        raise fail(str(exc)) from None
    configure_logging(settings.log_level, json_logs)
    try:
        if retire:
            run_worker(settings, retire_after_idle_s=5.0)
        elif run_workers(settings, workers, json_logs):
            raise typer.Exit(code=1)
    except RuntimeError as exc:
        raise fail(str(exc)) from None


@snapshots_app.command("prune")
def snapshots_prune(
    keep_days: Annotated[int, typer.Option(min=1, help="Keep this many days of snapshots.")] = 90,
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option(help="Only say what would be removed.")] = False,
) -> None:
    """Remove snapshot folders (one per site and day) older than --keep-days."""
    from ingest.config import IngestSettings
    from ingest.retention import prune_snapshots
    from shouwang.settings import ConfigError

    try:
        settings = IngestSettings.load(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    root = settings.ingest.snapshot_dir
    report = prune_snapshots(root, keep_days, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb} {len(report.days)} day folder(s), {report.files} file(s), "
        f"{report.bytes / 1_048_576:.1f} MiB from {root}"
    )
