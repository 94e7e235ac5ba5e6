"""Fixtures for the camera-event gateways: a real broker, Redis and an ingest worker, and a
unique site, streams and Redis prefix per test."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from cameras.config import CamerasSettings
from ingest.worker import IngestWorker
from tests.cameras.gateway import DOMAIN, SERVER_ID, GatewayThread
from tests.ingest.conftest import Namespace, make_settings, running_worker

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Names(Namespace):
    """Ingest's names for one test, and the gateway's Redis prefix."""

    prefix: str = ""


@pytest.fixture
def ns() -> Names:
    uid = uuid.uuid4().hex[:10]
    return Names(
        uid=uid,
        site=f"t{uid}",
        stream=f"test:{uid}:events",
        deadletter=f"test:{uid}:deadletter",
        share_group=f"g{uid}",
        prefix=f"test:{uid}:gb",
    )


@pytest.fixture
def redis_client(ns: Names) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    keys = list(client.scan_iter(f"test:{ns.uid}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def ingest(ns: Names, tmp_path: Path) -> Iterator[IngestWorker]:
    """An ingest worker storing this test's site into its own streams."""
    settings = make_settings(ns, tmp_path / "snapshots")
    with running_worker(settings) as worker:
        yield worker


def gateway_settings(
    ns: Names, devices: list[dict[str, Any]], *, mqtt_port: int = 1883, **gb: Any
) -> CamerasSettings:
    section: dict[str, Any] = {
        "server_id": SERVER_ID,
        "domain": DOMAIN,
        "host": "127.0.0.1",
        "port": 0,
        "metrics_port": 0,
        "state_prefix": ns.prefix,
        "deadletter_stream": ns.deadletter,
        "min_expires_s": 1,
        "query_catalog": False,
        "sweep_interval_s": 0.2,
    }
    section.update(gb)
    return CamerasSettings.load(
        None,
        mqtt={"host": "127.0.0.1", "port": mqtt_port},
        redis={"url": REDIS_URL},
        gb28181=section,
        cameras=devices,
    )


@pytest.fixture
def gateway(ns: Names) -> Iterator[Callable[..., GatewayThread]]:
    started: list[GatewayThread] = []

    def _start(devices: list[dict[str, Any]], **gb: Any) -> GatewayThread:
        thread = GatewayThread(gateway_settings(ns, devices, **gb), worker=ns.uid).start()
        started.append(thread)
        return thread

    yield _start
    for thread in started:
        thread.stop()
