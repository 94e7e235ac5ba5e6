"""Run the sensor bridge until SIGINT/SIGTERM."""

import structlog

from sensorbridge.config import BridgeSettings
from sensorbridge.directory import DeviceDirectory
from sensorbridge.worker import BridgeWorker
from shouwang.service import run_until_signalled

log = structlog.get_logger("shouwang.bridge")


def run_bridge(settings: BridgeSettings, directory: DeviceDirectory) -> None:
    """Run one bridge in this process; SIGINT or SIGTERM stops it after the batch in hand."""
    worker = BridgeWorker(settings, directory)
    run_until_signalled(worker.run, worker.stop, log, client_id=settings.bridge.client_id)
