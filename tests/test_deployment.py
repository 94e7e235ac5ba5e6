"""The production files: compose file valid, its commands the CLI's own, Dockerfile complete."""

import itertools
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shouwang_cli.main import app
from tests.helpers.packages import top_level_packages

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
SECRETS = {
    "MQTT_INGEST_PASSWORD": "check-only",
    "MQTT_EDGE_PASSWORD": "check-only",
    "MQTT_BRIDGE_PASSWORD": "check-only",
    "POSTGRES_PASSWORD": "check-only",
}


def test_docker_compose_file_is_valid() -> None:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose not installed (apt-get install docker-compose); .ci/run has it")
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**SECRETS, "PATH": "/usr/bin:/bin"},
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _shouwang_commands() -> dict[str, list[str]]:
    """Every `shouwang …` command line the compose services run, by service."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    commands = {}
    for name, service in services.items():
        if "entrypoint" in service:
            script = service["entrypoint"][-1]
            for part in script.split("&&"):
                words = [w for w in shlex.split(part) if w != "exec"]
                if words and words[0] == "shouwang":
                    commands[f"{name}: {part.strip()}"] = words[1:]
        elif service.get("image", "").startswith("shouwang") or "build" in service:
            commands[name] = [str(word) for word in service["command"]]
    return commands


def test_compose_services_run_commands_the_cli_has() -> None:
    commands = _shouwang_commands()
    assert {"ingest", "api", "notifier", "edge"} <= set(commands)
    runner = CliRunner()
    for name, words in commands.items():
        path = list(itertools.takewhile(lambda word: not word.startswith("-"), words))
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, f"{name}: `shouwang {' '.join(path)}` is not a command"
        for option in (w.split("=")[0] for w in words if w.startswith("--")):
            assert option in result.output, f"{name}: {option} is not an option of {path}"


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    for package in (*top_level_packages(), "models"):
        assert f"COPY {package} ./{package}" in dockerfile
