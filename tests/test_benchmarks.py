"""`python -m benchmarks` keeps working: its table and JSON, the camera search, and one cheap
benchmark run through the command. Nothing here asserts a speed."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks.edge_capacity import Capacity, Step, next_count
from benchmarks.report import Measure, combine, markdown, table, write_json
from benchmarks.suite import BENCHMARKS

ROOT = Path(__file__).resolve().parents[1]


def measures(fps: float, bare: float, p99: float) -> list[Measure]:
    return [
        Measure(
            key="edge.fps",
            group="edge",
            what="camera pipeline frames/s",
            value=fps,
            unit="fps",
            baseline=bare,
            baseline_what="bare onnxruntime",
            target="≥ 0.9×",
            met=fps / bare >= 0.9,
            detail=f"{fps} | {bare}",
        ),
        Measure(key="e2e.p99", group="end to end", what="fall → push p99", value=p99, unit="ms"),
    ]


def test_repeated_runs_combine_by_key_into_median_and_range(tmp_path: Path) -> None:
    summaries = combine([measures(90, 100, 300), measures(95, 100, 500), measures(80, 100, 400)])

    assert [s.key for s in summaries] == ["edge.fps", "e2e.p99"]
    fps, e2e = summaries
    assert fps.value == 90 and fps.values == [90, 95, 80]
    assert fps.ratio == pytest.approx(0.9)
    assert fps.met == [True, True, False]
    assert e2e.value == 400 and e2e.baseline is None and e2e.ratio is None

    text = markdown(summaries)
    assert "| edge | camera pipeline frames/s — 80 \\| 100 |" in text
    assert "90.0 fps (80.0–95.0)" in text
    assert "0.90× (0.80–0.95)" in text
    assert "≥ 0.9×: met in 2/3 runs" in text
    assert table(summaries, "t").row_count == 2

    out = tmp_path / "results.json"
    write_json(
        out, summaries, options={"quick": True}, errors={}, started=datetime.now(UTC), host={}
    )
    document = json.loads(out.read_text())
    assert document["measures"][0]["values"] == [90, 95, 80]
    assert document["measures"][0]["ratio"] == pytest.approx(0.9)


def step(cameras: int, cpu_cores: float, min_fps: float = 5.0) -> Step:
    return Step(cameras, cpu_cores, 0.5, min_fps, min_fps, 0, 400.0, cores=2)


def test_camera_search_jumps_to_the_prediction_then_bisects() -> None:
    found = Capacity(cores=2, decode_cpu=0.01, motion_share=0.1, bitrate_kbps=300)
    found.steps.append(step(4, 0.25))  # 6.25% of a core each: 28 fill 90% of 2 cores
    assert next_count(found, 64) == 28
    found.steps.append(step(28, 1.5, min_fps=4.2))  # a camera falls behind
    assert not found.steps[-1].ok and "4.20 fps" in found.steps[-1].problems[0]
    assert next_count(found, 64) == 16
    found.steps.append(step(16, 0.8))
    assert found.sustained is not None and found.sustained.cameras == 16
    assert next_count(found, 64) == 22
    found.steps.append(step(22, 1.9))  # over 90% of the cores
    assert next_count(found, 64) == 19
    found.steps.extend([step(19, 1.0), step(20, 1.1), step(21, 1.85)])
    assert found.sustained.cameras == 20
    assert found.first_failure is not None and found.first_failure.cameras == 21
    assert next_count(found, 64) is None


def test_camera_search_climbs_at_least_a_quarter_while_nothing_failed() -> None:
    found = Capacity(cores=2, decode_cpu=0.01, motion_share=0.1, bitrate_kbps=300)
    found.steps.append(step(40, 1.7))  # the prediction (42) is barely above
    assert next_count(found, 64) == 50


def test_camera_search_stops_at_its_upper_bound() -> None:
    found = Capacity(cores=2, decode_cpu=0.01, motion_share=0.1, bitrate_kbps=300)
    found.steps.append(step(4, 0.01))
    assert next_count(found, 10) == 10
    found.steps.append(step(10, 0.05))
    assert next_count(found, 10) is None


def test_unknown_benchmark_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--only", "edge,warp"])
    assert exit_.value.code == 2
    known = ", ".join(sorted(b.name for b in BENCHMARKS))
    assert "edge" in known
    assert f"unknown benchmark(s) warp; known: {known}" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_edge_benchmark_through_the_command(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "edge", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Shouwang system benchmarks" in done.stdout
    document = json.loads(out.read_text())
    assert document["errors"] == {}
    assert document["options"]["benchmarks"] == ["edge"]
    assert document["machine"]["cores"] >= 1
    [fps] = document["measures"]
    assert fps["key"] == "edge.fps" and fps["value"] > 0 and fps["baseline"] > 0
    assert fps["ratio"] == pytest.approx(fps["value"] / fps["baseline"])
