"""Snapshot retention removes whole old days (clips beside their snapshots) and nothing else."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from ingest.retention import prune_snapshots
from ingest.snapshots import SnapshotStore
from shouwang.contracts import Clip, MessageKind, Snapshot
from shouwang.contracts.examples import TINY_MP4, example
from shouwang_cli.main import app


def _day(root: Path, site: str, day: str, files: int) -> Path:
    folder = root / site / day
    folder.mkdir(parents=True)
    for index in range(files):
        (folder / f"event-{index}.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    return folder


def test_prune_removes_days_older_than_the_cutoff_only(tmp_path: Path) -> None:
    old = _day(tmp_path, "site-a", "20260801", 3)
    kept = _day(tmp_path, "site-a", "20261120", 2)
    other_site_old = _day(tmp_path, "site-b", "20260901", 1)
    not_a_day = tmp_path / "site-a" / "notes"
    not_a_day.mkdir()
    report = prune_snapshots(tmp_path, keep_days=30, today=date(2026, 11, 28))
    assert sorted(report.days) == sorted([old, other_site_old])
    assert (report.files, report.bytes) == (4, 4 * 103)
    assert not old.exists() and not other_site_old.exists()
    assert kept.exists() and not_a_day.exists()


def test_dry_run_changes_nothing_and_the_cli_reports(tmp_path: Path, monkeypatch) -> None:
    old = _day(tmp_path, "site-a", "20200101", 2)
    report = prune_snapshots(tmp_path, keep_days=1, dry_run=True)
    assert report.days == [old] and old.exists()
    monkeypatch.setenv("SHOUWANG_INGEST__SNAPSHOT_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["snapshots", "prune", "--keep-days", "1"])
    assert result.exit_code == 0, result.output
    assert "removed 1 day folder(s), 2 file(s)" in result.output
    assert not old.exists()


def test_a_clip_joins_its_snapshots_day_even_after_midnight_and_goes_with_it(
    tmp_path: Path,
) -> None:
    store = SnapshotStore(tmp_path, max_bytes=10_000, max_clip_bytes=10_000)
    snapshot = example(
        MessageKind.SNAPSHOT, site="site-a", source="cam-01", message_id="evt-late-1"
    )
    clip = example(MessageKind.CLIP, site="site-a", source="cam-01", message_id="evt-late-1")
    alone = example(MessageKind.CLIP, site="site-a", source="cam-01", message_id="evt-alone-1")
    assert isinstance(snapshot, Snapshot) and isinstance(clip, Clip) and isinstance(alone, Clip)
    night = datetime(2026, 8, 1, 23, 59, 58, tzinfo=UTC)
    jpeg = store.save(snapshot, night)
    mp4 = store.save_clip(clip, night + timedelta(seconds=10))  # the next UTC day
    assert mp4 == jpeg.with_suffix(".mp4") and (tmp_path / mp4).read_bytes() == TINY_MP4
    assert store.save_clip(alone, night + timedelta(seconds=10)).parent.name == "20260802"
    report = prune_snapshots(tmp_path, keep_days=30, today=date(2026, 11, 28))
    assert report.files == 3 and not (tmp_path / mp4).exists()
