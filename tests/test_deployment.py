"""The production files: compose file valid, Dockerfile copies every package."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_docker_compose_file_is_valid() -> None:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose not installed (apt-get install docker-compose); .ci/run has it")
    result = subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={
            "MQTT_INGEST_PASSWORD": "check-only",
            "POSTGRES_PASSWORD": "check-only",
            "PATH": "/usr/bin:/bin",
        },
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    for package in ("shouwang", "ingest", "edge", "records", "rules", "alert_api", "models"):
        assert f"COPY {package} ./{package}" in dockerfile
