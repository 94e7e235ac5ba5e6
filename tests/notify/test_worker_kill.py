"""A notifier process killed (SIGKILL) in the middle of a job: another worker finishes the job,
and no target accepts a message twice."""

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import yaml
from sqlalchemy.orm import Session, sessionmaker

from notify.worker import Notifier
from records.base import utcnow
from records.notifications import DeliveryOutcome
from tests.notify.builders import Clock, browser, job, publish
from tests.notify.conftest import Names, settings_for
from tests.notify.drive import settle
from tests.notify.servers import HttpEdge
from tests.notify.test_delivery import deliveries, subscribe

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).parents[2]


def test_killed_notifier_is_replaced_without_double_sending(
    notifier_for: Callable[..., Notifier],
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    names: Names,
    edge: HttpEdge,
    clock: Clock,
    database_url: str,
    tmp_path: Path,
) -> None:
    first, stalling = browser(edge.url("/push/first")), browser(edge.url("/push/stalling"))
    subscribe(sessions, ("guardian", 1), first, stalling)
    hook = edge.url("/hook/after", "json")
    stalled, killed = threading.Event(), threading.Event()

    def stall() -> int:  # the push service holds the request until the worker is dead
        stalled.set()
        killed.wait(30)
        return 503

    edge.hooks["/push/stalling"] = stall
    settings = settings_for(database_url, names, consumer="doomed", concurrency=1)
    config = tmp_path / "notify.yaml"
    config.write_text(yaml.safe_dump(json.loads(settings.model_dump_json())))
    log_path = tmp_path / "doomed.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from notify.cli import notify_app; notify_app()",
                "run",
                "--config",
                str(config),
                "--json-logs",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            publish(redis_client, names.stream, job("webpush", hook, alert_id=77))
            assert stalled.wait(30), log_path.read_text()
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            worker.kill()
            killed.set()
            del edge.hooks["/push/stalling"]

    assert len(edge.accepted("/push/first")) == 1  # sent and recorded before the kill
    assert edge.to("/hook/after") == []  # never reached
    survivor = notifier_for(consumer="survivor")
    clock.now = utcnow()
    settle(survivor)
    assert len(edge.to("/push/stalling")) == 1  # still leased by the dead worker
    clock.now = utcnow() + timedelta(seconds=31)  # its lease ran out
    settle(survivor)

    assert len(edge.to("/push/first")) == 1
    assert [r.status for r in edge.to("/push/stalling")] == [503, 201]
    assert len(edge.accepted("/push/stalling")) == 1
    assert len(edge.accepted("/hook/after")) == 1
    assert {d.outcome for d in deliveries(sessions)} == {DeliveryOutcome.SENT}
    assert redis_client.xpending(names.stream, names.group)["pending"] == 0

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    about_the_job = [line for line in lines if line["event"] in ("job planned", "delivered")]
    assert [line["event"] for line in about_the_job] == ["job planned", "delivered"]
    assert all(
        line["alert_id"] == 77 and line["job_id"] == "77:0:guardian:1" for line in about_the_job
    )
