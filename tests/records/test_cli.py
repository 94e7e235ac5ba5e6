"""`shouwang db …`, `shouwang watchlist …` and `shouwang devices …` as an operator uses them."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from records.cli import db_app, watchlist_app
from records.db import make_engine, make_sessionmaker
from records.device_registry import report_unassigned
from records.migrate import head_revision
from shouwang_cli.main import app
from tests.records.village import example_file

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "shouwang.yaml"
    path.write_text(f"database:\n  url: '{database_url}'\n")
    return path


def test_upgrade_then_import_and_export_the_village(config: Path, tmp_path: Path) -> None:
    assert runner.invoke(db_app, ["current", "-c", str(config)]).exit_code == 1
    refused = runner.invoke(
        watchlist_app, ["import", "areas", str(example_file("areas")), "-c", str(config)]
    )
    assert refused.exit_code == 2 and "run `shouwang db upgrade`" in refused.output
    upgraded = runner.invoke(db_app, ["upgrade", "-c", str(config)])
    assert upgraded.exit_code == 0 and f"is at revision {head_revision()}" in upgraded.output
    assert runner.invoke(db_app, ["upgrade", "-c", str(config)]).exit_code == 0
    assert runner.invoke(db_app, ["current", "-c", str(config)]).exit_code == 0
    for kind in ("areas", "sites", "staff", "persons", "guardians"):
        result = runner.invoke(
            watchlist_app, ["import", kind, str(example_file(kind)), "-c", str(config)]
        )
        assert result.exit_code == 0, result.output
        assert "applied" in result.output and "0 problem(s)" in result.output
    out = tmp_path / "persons-gbk.csv"
    exported = runner.invoke(
        watchlist_app,
        ["export", "persons", str(out), "-c", str(config), "--encoding", "gbk", "--headers", "zh"],
    )
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes().decode("gbk").startswith("人员编号,姓名,类别")
    stdout = runner.invoke(watchlist_app, ["export", "guardians", "-", "-c", str(config)])
    assert stdout.exit_code == 0 and "P001,王丽,13900000001,女儿" in stdout.stdout


def test_bad_rows_are_listed_and_nothing_is_written_unless_skipping(
    config: Path, tmp_path: Path
) -> None:
    runner.invoke(db_app, ["upgrade", "-c", str(config)])
    for kind in ("areas", "sites"):
        runner.invoke(watchlist_app, ["import", kind, str(example_file(kind)), "-c", str(config)])
    staff = tmp_path / "staff.csv"
    staff.write_text(
        "工号,姓名,电话,岗位,区域编号\n"
        "gw-9,赵网格,13800000009,网格员,520603100201-01\n"
        "gw-10,钱网格,电话,网格员,520603100201-01\n"
        "gw-11,孙网格,,村长,nowhere\n",
        encoding="gbk",
    )
    args = ["import", "staff", str(staff), "-c", str(config)]
    refused = runner.invoke(watchlist_app, args)
    assert refused.exit_code == 1
    assert "第 3 行，“电话”列：须为电话号码（数字，可带 +）（填的是 '电话'）" in refused.output
    assert "第 4 行，“区域编号”列：没有这个区域（请先导入区域）" in refused.output
    refused = runner.invoke(watchlist_app, [*args, "--lang", "en"])
    assert refused.exit_code == 1
    assert "line 3, column phone: must be a phone number" in refused.output
    assert "line 4, column role: must be one of duty_officer, grid_worker, police" in refused.output
    assert "line 4, column area_code: no such area" in refused.output
    assert "NOT applied" in refused.output and "read as gbk" in refused.output
    dry = runner.invoke(watchlist_app, [*args, "--dry-run", "--skip-bad-rows"])
    assert dry.exit_code == 1 and "(dry run)" in dry.output
    skipped = runner.invoke(watchlist_app, [*args, "--skip-bad-rows"])
    assert (
        skipped.exit_code == 0 and "1 created" in skipped.output and "2 skipped" in skipped.output
    )
    export = runner.invoke(watchlist_app, ["export", "staff", "-", "-c", str(config)])
    assert "gw-9,赵网格" in export.stdout and "gw-10" not in export.stdout


def test_wrong_options_are_refused(config: Path) -> None:
    runner.invoke(db_app, ["upgrade", "-c", str(config)])
    area = str(example_file("areas"))
    assert (
        "unknown kind 'pets'"
        in runner.invoke(watchlist_app, ["import", "pets", area, "-c", str(config)]).output
    )
    assert (
        "unknown encoding"
        in runner.invoke(
            watchlist_app, ["import", "areas", area, "-c", str(config), "--encoding", "big5"]
        ).output
    )
    assert (
        "unknown header language"
        in runner.invoke(
            watchlist_app, ["export", "areas", "-", "-c", str(config), "--headers", "fr"]
        ).output
    )
    assert (
        "unknown language 'fr'"
        in runner.invoke(
            watchlist_app, ["import", "areas", area, "-c", str(config), "--lang", "fr"]
        ).output
    )


def test_devices_heard_but_not_assigned_are_listed_with_why(config: Path) -> None:
    runner.invoke(db_app, ["upgrade", "-c", str(config)])
    url = config.read_text().split("url: ")[1].strip().strip("'")
    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as session:
        for address, reason in (("0x00158d000dddddd1", "unknown_device"), ("door-x", "unreadable")):
            report_unassigned(
                session,
                protocol="zigbee2mqtt",
                address=address,
                reason=reason,
                detail=f"{reason} detail",
                friendly_name=address,
                model="Xiaomi MCCGQ11LM",
                suggested_kinds=["door_contact"],
                payload="{}",
                seen_at=datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
            )
    engine.dispose()
    table = runner.invoke(app, ["devices", "unassigned", "-c", str(config)])
    assert table.exit_code == 0, table.output
    assert "2 device(s) heard but not assigned" in table.output
    assert "unknown_device" in table.output and "unreadable" in table.output
    listed = runner.invoke(app, ["devices", "unassigned", "-c", str(config), "--json"])
    rows = {r["address"]: r for r in json.loads(listed.stdout)}
    assert (rows["door-x"]["reason"], rows["door-x"]["detail"]) == (
        "unreadable",
        "unreadable detail",
    )
