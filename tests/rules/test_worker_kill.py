"""A rules worker process killed (SIGKILL) mid-batch: another worker reclaims its entries and
every event yields exactly the alerts it should."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import yaml
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import Alert, AlertEvent
from records.db import make_sessionmaker
from rules.consumer import RulesConsumer
from shouwang.contracts import SensorType
from tests.records.redis_fixtures import REDIS_URL, RedisNames
from tests.rules.builders import sensor
from tests.rules.conftest import DEFAULT_RULES, add, drain

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).parents[2]
PRESSES = 600


def _count(engine: Engine, model: type) -> int:
    with make_sessionmaker(engine, read_only=True)() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_killed_worker_is_replaced_without_losing_or_doubling_alerts(
    consumer_for: Callable[..., RulesConsumer],
    village: sessionmaker[Session],
    redis_client: redis.Redis,
    names: RedisNames,
    database_url: str,
    engine: Engine,
    tmp_path: Path,
) -> None:
    add(
        redis_client,
        names,
        *(sensor(SensorType.SOS_BUTTON, True, device=f"sos-{i:03d}") for i in range(PRESSES)),
    )
    config = tmp_path / "rules.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": {"url": database_url},
                "redis": {"url": REDIS_URL},
                "rules": {
                    "file": str(DEFAULT_RULES),
                    "stream": names.events,
                    "group_start": "0",
                    "consumer": "doomed",
                    "batch_size": 50,
                    "key_prefix": names.prefix,
                    "alerts_stream": names.streams.alerts,
                    "notifications_stream": names.streams.notifications,
                    "deadletter_stream": names.deadletter,
                },
            }
        )
    )
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from rules.cli import rules_app; rules_app()",
            "run",
            "--config",
            str(config),
            "--json-logs",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while _count(engine, Alert) < 50:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker raised no alerts in 60 s"
            time.sleep(0.01)
        seen = _count(engine, Alert)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
        log.close()
    left = int(redis_client.xpending(names.events, "rules")["pending"])
    # Killed while working: some batches committed and acknowledged, the one in hand not.
    assert seen < PRESSES and left <= 50
    survivor = consumer_for(consumer="survivor", reclaim_idle_ms=0)
    drain(survivor)
    with village() as session:
        sources = session.scalars(select(Alert.source)).all()
    assert sorted(sources) == [f"sos-{i:03d}" for i in range(PRESSES)]
    assert _count(engine, AlertEvent) == PRESSES
    assert int(redis_client.xpending(names.events, "rules")["pending"]) == 0
    assert redis_client.xlen(names.deadletter) == 0
