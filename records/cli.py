"""Command-line apps for the records: `db` (schema migrations) and `watchlist` (CSV import and
export). The `shouwang` CLI mounts them; heavy imports happen inside the commands."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shouwang.cli_helpers import ConfigOption, console, fail

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from records.settings import RecordsSettings

db_app = typer.Typer(help="The records database (SQLite or PostgreSQL): schema migrations.")
watchlist_app = typer.Typer(
    help="Watch lists, guardians, staff, areas and sites: CSV import and export (UTF-8 or GBK)."
)
devices_app = typer.Typer(
    help="Sensor devices (Zigbee2MQTT, Home Assistant): import and export them with "
    "`shouwang watchlist import devices FILE`; list the ones heard but not assigned."
)
KIND_HELP = (
    "areas, sites, staff, persons (the watch list), guardians, cameras (GB/T 28181) or "
    "devices (sensors)."
)


def _settings(config: Path | None) -> "RecordsSettings":
    from records.settings import RecordsSettings
    from shouwang.settings import ConfigError

    try:
        return RecordsSettings.load(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def _engine(config: Path | None, *, current: bool = True) -> "Engine":
    from records.db import make_engine
    from records.migrate import SchemaOutdated, require_current

    settings = _settings(config)
    engine = make_engine(settings.database.url, echo=settings.database.echo)
    if current:
        try:
            require_current(engine)
        except SchemaOutdated as exc:
            raise fail(str(exc)) from None
    return engine


def _kind(kind: str) -> str:
    from records.watchlist_csv import KINDS

    if kind not in KINDS:
        raise fail(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    return kind


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the tables to the newest schema (safe to run again)."""
    from sqlalchemy.exc import SQLAlchemyError

    from records.migrate import current_revision, upgrade

    engine = _engine(config, current=False)
    try:
        upgrade(engine, revision)
    except SQLAlchemyError as exc:
        raise fail(f"migration failed: {exc}") from None
    url = engine.url.render_as_string(hide_password=True)
    typer.echo(f"{url} is at revision {current_revision(engine)}")


@db_app.command("current")
def db_current(config: ConfigOption = None) -> None:
    """Show the database's schema revision; exit 1 if it is not the newest."""
    from records.migrate import current_revision, head_revision

    engine = _engine(config, current=False)
    current, head = current_revision(engine), head_revision()
    typer.echo(f"database: {current or '(empty)'}, code: {head}")
    if current != head:
        raise typer.Exit(code=1)


@watchlist_app.command("import")
def watchlist_import(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    file: Annotated[Path, typer.Argument(help="CSV file (UTF-8 or GBK).", exists=True)],
    config: ConfigOption = None,
    encoding: Annotated[str, typer.Option(help="auto (UTF-8, else GBK), utf-8 or gbk.")] = "auto",
    skip_bad_rows: Annotated[
        bool, typer.Option(help="Write the good rows even if some are bad (default: all or none).")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Check every row, write nothing.")] = False,
    lang: Annotated[str, typer.Option(help="Language of the refusals: zh or en.")] = "zh",
) -> None:
    """Import a CSV file. Every bad row is listed with its line, column and reason; unless
    --skip-bad-rows, one bad row means nothing is written (exit 1)."""
    from records.db import make_sessionmaker
    from records.refusals import Language
    from records.watchlist_csv import column_label, import_csv
    from records.watchlist_csv.encoding import ENCODINGS

    if encoding not in ENCODINGS:
        raise fail(f"unknown encoding {encoding!r}; use auto, utf-8 or gbk")
    if lang not in ("zh", "en"):
        raise fail(f"unknown language {lang!r}; use zh or en")
    language: Language = "zh" if lang == "zh" else "en"
    sessions = make_sessionmaker(_engine(config))
    with sessions() as session:
        report = import_csv(
            session,
            _kind(kind),
            file.read_bytes(),
            encoding=encoding,  # type: ignore[arg-type]
            skip_bad_rows=skip_bad_rows,
        )
        if report.applied and not dry_run:
            session.commit()
        else:
            session.rollback()
            report.applied = False
    for error in report.errors:
        label = column_label(report.kind, error.column, language) if error.column else None
        text = error.text(language, label)
        console.print(f"{file}: {text}", soft_wrap=True, highlight=False, markup=False)
    typer.echo(report.summary() + (" (dry run)" if dry_run else ""))
    if report.errors and not report.applied:
        raise typer.Exit(code=1)


@watchlist_app.command("export")
def watchlist_export(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    file: Annotated[Path, typer.Argument(help="CSV file to write; - for standard output.")],
    config: ConfigOption = None,
    encoding: Annotated[
        str, typer.Option(help="utf-8-sig (UTF-8 that Excel opens), utf-8 or gbk.")
    ] = "utf-8-sig",
    headers: Annotated[str, typer.Option(help="Header language: en or zh.")] = "en",
) -> None:
    """Export every record of a kind as CSV (re-importable as it is)."""
    from records.db import make_sessionmaker
    from records.watchlist_csv import export_csv

    if encoding not in ("utf-8-sig", "utf-8", "gbk"):
        raise fail(f"unknown encoding {encoding!r}; use utf-8-sig, utf-8 or gbk")
    if headers not in ("en", "zh"):
        raise fail(f"unknown header language {headers!r}; use en or zh")
    sessions = make_sessionmaker(_engine(config))
    with sessions() as session:
        data = export_csv(session, _kind(kind), encoding=encoding, headers=headers)  # type: ignore[arg-type]
    if str(file) == "-":
        typer.echo(data.decode("gb18030" if encoding == "gbk" else "utf-8-sig"), nl=False)
    else:
        file.write_bytes(data)
        console.print(f"wrote {file}", highlight=False, markup=False)


@devices_app.command("unassigned")
def devices_unassigned(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the devices the sensor bridge heard that no row of the device table maps (or whose
    messages it could not read), most recently heard first; assign one on the back office's
    devices page or by importing its row (`watchlist import devices`)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from records.db import make_sessionmaker
    from records.device_registry import unassigned_devices

    with make_sessionmaker(_engine(config), read_only=True)() as session:
        found = unassigned_devices(session)
    if as_json:
        rows = [
            {
                "protocol": d.protocol.value,
                "address": d.address,
                "friendly_name": d.friendly_name,
                "model": d.model,
                "suggested_kinds": d.suggested_kinds,
                "reason": d.reason,
                "detail": d.detail,
                "count": d.count,
                "first_seen_at": d.first_seen_at.isoformat(),
                "last_seen_at": d.last_seen_at.isoformat(),
            }
            for d in found
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(found)} device(s) heard but not assigned")
    columns = ("protocol", "address", "name", "model", "looks like", "why", "heard", "last heard")
    for column in columns:
        table.add_column(column)
    for d in found:
        table.add_row(
            d.protocol.value,
            d.address,
            d.friendly_name,
            d.model or "-",
            ", ".join(d.suggested_kinds) or "-",
            d.reason,
            f"{d.count}x",
            d.last_seen_at.isoformat(timespec="seconds"),
        )
    Console(width=160).print(table)
