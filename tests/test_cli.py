"""The `shouwang` command line as a user meets it."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shouwang.contracts import MessageKind, decode
from shouwang_cli.main import app

runner = CliRunner()


def test_contracts_export_writes_one_schema_per_kind(tmp_path: Path) -> None:
    result = runner.invoke(app, ["contracts", "export", str(tmp_path / "schemas")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "schemas").glob("*.schema.json"))) == len(MessageKind)


@pytest.mark.parametrize("kind", [k.value for k in MessageKind])
def test_contracts_example_prints_a_payload_that_ingest_accepts(kind: str) -> None:
    result = runner.invoke(app, ["contracts", "example", kind, "--site", "s1"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    source = payload.get("camera") or payload.get("device") or payload.get("edge")
    decode(f"shouwang/v1/s1/{source}/{kind}", json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        ("ingest:\n  dedup_ttl_s: 60\n", "ingest.dedup_ttl_s: Input should be greater than or"),
        ("ingest:\n  batch_sise: 10\n", "ingest.batch_sise: Extra inputs are not permitted"),
        ("mqtt:\n  port: seventy\n", "mqtt.port: Input should be a valid integer"),
        ("mqtt: [1, 2\n", "is not valid YAML"),
        ("- just\n- a list\n", "must hold a mapping of sections"),
    ],
)
def test_bad_config_file_fails_with_file_key_and_problem(
    tmp_path: Path, config_text: str, expected: str
) -> None:
    config = tmp_path / "ingest.yaml"
    config.write_text(config_text)
    result = runner.invoke(app, ["ingest", "--config", str(config)])
    assert result.exit_code == 2
    assert expected in result.output
    assert str(config) in result.output


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml does not exist" in result.output


def test_configuration_reference_in_docs_is_current() -> None:
    result = runner.invoke(app, ["config", "reference"])
    assert result.exit_code == 0, result.output
    documented = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()
    assert documented == result.stdout, "run: shouwang config reference > docs/configuration.md"


def test_broker_acl_lists_each_edge_boxs_own_topics() -> None:
    config = Path(__file__).parents[1] / "configs" / "edge.yaml"
    result = runner.invoke(
        app,
        [
            "broker",
            "acl",
            str(config),
            "--gateway",
            "gw-1:site-9",
            "--camera-gateway",
            "gb:site-9,site-10",
            "--sensor-bridge",
            "bridge:zigbee2mqtt,homeassistant",
        ],
    )
    assert result.exit_code == 0, result.output
    blocks = {
        next(line for line in block.splitlines() if line.startswith("user ")): block
        for block in result.stdout.split("\n\n")
        if block.strip()
    }
    assert "topic read shouwang/#" in blocks["user ingest"]
    edge = next(text for user, text in blocks.items() if user.startswith("user edge-"))
    assert "shouwang/v1/tongren-bijiang-01/cam-bridge/event" in edge
    assert "shouwang/v1/tongren-bijiang-01/cam-bridge/clip" in edge
    assert "#" not in edge and "+" not in edge
    assert "topic write shouwang/v1/site-9/+/sensor" in blocks["user gw-1"]
    camera_gateway = blocks["user gb"].splitlines()
    for site in ("site-9", "site-10"):
        for kind in ("event", "snapshot", "status", "heartbeat"):
            assert f"topic write shouwang/v1/{site}/+/{kind}" in camera_gateway
    assert not [line for line in camera_gateway if line.endswith("/sensor")]
    assert blocks["user bridge"].splitlines()[1:] == [
        "topic read zigbee2mqtt/#",
        "topic read homeassistant/#",
        "topic write shouwang/v1/+/+/sensor",
    ]
