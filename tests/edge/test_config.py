"""Edge config: the example loads, every field documents itself, bad files say where."""

from pathlib import Path

import pytest
from pydantic import BaseModel

from edge.config import CameraConfig, EdgeSettings, load_settings
from shouwang.settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads() -> None:
    settings = load_settings(ROOT / "configs" / "edge.yaml")
    assert [c.id for c in settings.cameras] == ["cam-bridge", "cam-home-wang"]
    home = settings.cameras[1]
    assert home.zones["bed"].tags == ["bed"] and home.inactivity.enabled


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for field in model.model_fields.values():
        for kind in (*getattr(field.annotation, "__args__", ()), field.annotation):
            if isinstance(kind, type) and issubclass(kind, BaseModel) and kind not in found:
                found += _models(kind)
    return found


def test_every_field_is_described() -> None:
    for model in _models(CameraConfig):
        for name, info in model.model_fields.items():
            assert info.description or info.title, f"{model.__name__}.{name} is undocumented"


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (
            "cameras:\n  - id: cam-1\n    source: a.mp4\n    detect_fps: 0\n",
            ["cameras.0.detect_fps", "greater than 0"],
        ),
        (
            "cameras:\n  - id: cam-1\n    source: a.mp4\n    fall:\n      confrm_s: 2\n",
            ["cameras.0.fall.confrm_s", "Extra inputs"],
        ),
        (
            "cameras:\n  - id: cam-1\n    source: a.mp4\n    zones:\n      z:\n"
            "        polygon: [[0, 0], [1.5, 0], [1, 1]]\n",
            ["cameras.0.zones.z.polygon.1.0", "less than or equal to 1"],
        ),
        (
            "cameras:\n  - id: cam-1\n    source: a.mp4\n    zones:\n      z:\n"
            "        polygon: [[0, 0], [0.5, 0.5], [1, 1]]\n",
            ["cameras.0.zones.z.polygon", "no area"],
        ),
        (
            "cameras:\n  - {id: cam-1, source: a.mp4}\n  - {id: cam-1, source: b.mp4}\n",
            ["unique", "cam-1"],
        ),
        ("camras: []\n", ["camras", "Extra inputs"]),
        ("cameras: []\n", ["at least one camera"]),
        ("cameras: [\n", ["not valid YAML"]),
    ],
)
def test_bad_config_names_file_key_and_problem(
    tmp_path: Path, text: str, needles: list[str]
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "cameras:\n  - {id: cam-1, source: a.mp4}\nmqtt: {host: a}\n")
    monkeypatch.setenv("SHOUWANG_MQTT__HOST", "broker.example")
    assert load_settings(path).mqtt.host == "broker.example"


def test_defaults_need_no_file() -> None:
    settings = EdgeSettings.load(None)
    assert settings.detector.path.name == "yolo11n-pose.onnx" and settings.detector.path.is_file()


def test_docs_hold_the_current_config_reference() -> None:
    from edge.config.reference import markdown

    docs = (ROOT / "docs" / "edge.md").read_text(encoding="utf-8")
    assert markdown() in docs, "regenerate: python -m edge.config.reference"
