"""Run the sensor bridge until SIGINT/SIGTERM."""

import structlog

from sensorbridge.config import BridgeSettings
from sensorbridge.directory import DeviceDirectory
from sensorbridge.simulate import Simulator
from sensorbridge.worker import BridgeWorker
from shouwang.service import run_until_signalled

log = structlog.get_logger("shouwang.bridge")


def run_bridge(settings: BridgeSettings, directory: DeviceDirectory) -> None:
    """Run one bridge in this process; SIGINT or SIGTERM stops it after the batch in hand."""
    worker = BridgeWorker(settings, directory)
    run_until_signalled(worker.run, worker.stop, log, client_id=settings.bridge.client_id)


def run_simulator(
    settings: BridgeSettings, *, base: str, timezone: str, sos_after_s: float
) -> None:
    """Publish the demo's Zigbee sensors on `base` until SIGINT/SIGTERM."""
    simulator = Simulator(settings, base=base, timezone=timezone, sos_after_s=sos_after_s)
    run_until_signalled(simulator.run, simulator.stop, log, base=base)
