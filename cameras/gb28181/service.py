"""Run the GB/T 28181 gateway until SIGINT/SIGTERM: one process, or several on one port."""

import asyncio
import signal
import socket

import redis.asyncio as aioredis
import structlog

from cameras.config import CamerasSettings
from cameras.devices import read_devices
from cameras.gb28181.server import Gb28181Server
from cameras.publisher import WirePublisher
from shouwang.logs import configure_logging
from shouwang.metrics_http import serve_metrics
from shouwang.service import run_in_processes

log = structlog.get_logger("shouwang.cameras.gb28181")


async def serve(settings: CamerasSettings, worker_id: str, stop: asyncio.Event) -> None:
    """Run one gateway process until `stop` is set."""
    client = aioredis.Redis.from_url(settings.redis.url)
    publisher = WirePublisher(settings.mqtt, f"shouwang-gb28181-{worker_id}")
    publisher.start()
    server = Gb28181Server(settings, read_devices(settings), client, publisher, worker_id)
    metrics = serve_metrics(
        server.metrics.registry, settings.gb28181.metrics_port, "gb28181.metrics_port"
    )
    await server.start()
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), settings.gb28181.device_refresh_s)
            except TimeoutError:
                if settings.database is not None:
                    server.replace_devices(await asyncio.to_thread(read_devices, settings))
    finally:
        await server.stop()
        publisher.stop()
        if metrics is not None:
            metrics.shutdown()
        await client.aclose()


def run_gateway(settings: CamerasSettings, worker_id: str | None = None) -> None:
    """Serve in this process; SIGINT or SIGTERM stops it."""
    worker = worker_id or socket.gethostname()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, worker, stop)

    asyncio.run(main())


def _worker(settings: CamerasSettings, index: int, json_logs: bool | None) -> None:
    configure_logging(settings.log_level, json_logs)
    run_gateway(settings, f"{socket.gethostname()}-{index}")


def run_gateways(settings: CamerasSettings, count: int, json_logs: bool | None = None) -> int:
    """`count` processes sharing the SIP port (SO_REUSEPORT: the kernel keeps each device on
    one of them; registrations live in Redis, so any of them can take over a device).
    Returns how many did not exit cleanly."""
    if count == 1:
        run_gateway(settings)
        return 0
    if not settings.gb28181.port:
        raise RuntimeError("several gateway processes need a fixed gb28181.port")
    arguments: list[tuple[CamerasSettings, int, bool | None]] = []
    for index in range(1, count + 1):
        port = settings.gb28181.metrics_port
        section = settings.gb28181.model_copy(
            update={"metrics_port": port + index - 1 if port else 0}
        )
        arguments.append((settings.model_copy(update={"gb28181": section}), index, json_logs))
    return run_in_processes(_worker, arguments, "shouwang-gb28181")
