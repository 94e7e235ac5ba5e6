"""Run one or several ingest workers until SIGINT/SIGTERM."""

import structlog

from ingest.config import IngestSettings
from ingest.jetstream import JetStreamWorker
from ingest.worker import IngestWorker
from shouwang.logs import configure_logging
from shouwang.service import run_in_processes, run_until_signalled

log = structlog.get_logger("shouwang.ingest")


def make_worker(settings: IngestSettings) -> IngestWorker | JetStreamWorker:
    """The worker of the configured source: an MQTT subscriber or a JetStream consumer."""
    if settings.ingest.source == "jetstream":
        return JetStreamWorker(settings)
    return IngestWorker(settings)


def run_worker(settings: IngestSettings, *, retire_after_idle_s: float | None = None) -> None:
    """Run one worker in this process; SIGINT or SIGTERM stops it after the batch in hand."""
    worker = make_worker(settings)
    run_until_signalled(
        lambda: worker.run(retire_after_idle_s=retire_after_idle_s),
        worker.stop,
        log,
        worker=worker.worker_id,
    )


def _worker_process(settings: IngestSettings, log_json: bool | None) -> None:
    configure_logging(settings.log_level, log_json)
    run_worker(settings)


def worker_settings(settings: IngestSettings, index: int) -> IngestSettings:
    """Settings of worker `index` (1-based) of several: its own id and metrics port."""
    port = settings.ingest.metrics_port
    section = settings.ingest.model_copy(
        update={
            "worker_id": f"{settings.ingest.worker_id}-{index}",
            "metrics_port": port + index - 1 if port else 0,
        }
    )
    return settings.model_copy(update={"ingest": section})


def run_workers(settings: IngestSettings, count: int, log_json: bool | None = None) -> int:
    """Run `count` workers as processes `<worker_id>-1…-N` (metrics ports port…port+N-1).

    Returns how many workers did not exit cleanly.
    """
    if count == 1:
        run_worker(settings)
        return 0
    arguments = [(worker_settings(settings, index), log_json) for index in range(1, count + 1)]
    return run_in_processes(_worker_process, arguments, "shouwang-ingest")
