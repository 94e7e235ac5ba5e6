"""The load simulator (`python -m benchmarks.city`) on a small city: its edge boxes hold their
sessions, one county's boxes come back after an outage, and every event the broker
acknowledged reaches its partition's stream and every fall and child alone its alert."""

import json
import subprocess
import sys

import pytest

from tests.helpers.service_process import REPO, service_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_small_city_through_the_simulator_loses_nothing() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.city",
            *("--boxes", "60", "--speed", "60", "--seconds", "12", "--outage-s", "4"),
            *("--nodes", "1", "--json"),
        ],
        cwd=REPO,
        env=service_environment(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [result] = json.loads(done.stdout)
    assert result["connections_held"] == 60, result
    assert result["events"] > 50, result
    assert result["lost"] == 0, result
    assert result["stored"] == result["events"] - result["unacked"], result
    assert result["unacked"] == 0, result
    assert result["alerts"] > 0, result
    assert 0 <= result["storm_reconnect_s"] < 30, result
