"""Snapshot retention: remove whole days of snapshot files older than a cut-off."""

import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path


@dataclass
class PruneReport:
    """What a prune removed (or would remove, on a dry run)."""

    days: list[Path] = field(default_factory=list)
    files: int = 0
    bytes: int = 0


def prune_snapshots(
    root: Path, keep_days: int, *, today: date | None = None, dry_run: bool = False
) -> PruneReport:
    """Delete `<root>/<site>/<YYYYMMDD>` folders older than `keep_days` days (UTC dates).

    Folders whose name is not a date are left alone.
    """
    cutoff = (today or datetime.now(UTC).date()) - timedelta(days=keep_days)
    report = PruneReport()
    if not root.is_dir():
        return report
    for day in sorted(root.glob("*/*")):
        try:
            stamp = datetime.strptime(day.name, "%Y%m%d").date()
        except ValueError:
            continue
        if not day.is_dir() or stamp >= cutoff:
            continue
        files = [f for f in day.rglob("*") if f.is_file()]
        report.days.append(day)
        report.files += len(files)
        report.bytes += sum(f.stat().st_size for f in files)
        if not dry_run:
            shutil.rmtree(day)
    return report
