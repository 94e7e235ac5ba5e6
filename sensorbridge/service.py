"""Run the sensor bridge until SIGINT/SIGTERM."""

import signal
from types import FrameType

import structlog

from sensorbridge.config import BridgeSettings
from sensorbridge.directory import DeviceDirectory
from sensorbridge.worker import BridgeWorker

log = structlog.get_logger("shouwang.bridge")


def run_bridge(settings: BridgeSettings, directory: DeviceDirectory) -> None:
    """Run one bridge in this process; SIGINT or SIGTERM stops it after the batch in hand."""
    worker = BridgeWorker(settings, directory)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    worker.run()
