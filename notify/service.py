"""Run a notifier until SIGINT/SIGTERM, with its Prometheus endpoint."""

from wsgiref.simple_server import WSGIServer

import structlog

from notify.settings import NotifierSettings
from notify.worker import Notifier
from records.db import make_engine, make_sessionmaker
from records.migrate import require_current
from shouwang.metrics_http import serve_metrics as serve_registry
from shouwang.redis_client import connect
from shouwang.service import run_until_signalled
from shouwang.streams import GroupBacklog

log = structlog.get_logger("shouwang.notify")


def build_notifier(settings: NotifierSettings) -> Notifier:
    """A notifier wired to the configured database (which must be migrated) and Redis."""
    engine = make_engine(settings.database.url, echo=settings.database.echo)
    require_current(engine)
    client = connect(settings.redis, decode_responses=True, socket_timeout=30)
    return Notifier(settings, make_sessionmaker(engine), client)


def serve_metrics(notifier: Notifier, port: int) -> WSGIServer | None:
    """Export the notifier's counters, and its group's backlog read when scraped, on `port`
    (0: not at all); returns the server. Raises `MetricsPortBusy`."""
    registry = notifier.metrics.registry
    consumer = notifier.consumer
    registry.register(GroupBacklog(consumer.client, consumer.section, "shouwang_notify"))
    return serve_registry(registry, port, "notify.metrics_port")


def run_notifier(notifier: Notifier) -> None:
    """Run one notifier in this process; SIGINT or SIGTERM stops it after the round in hand
    and the attempts in flight."""
    section = notifier.section
    log.info(
        "notifier started",
        consumer=section.consumer,
        group=section.group,
        stream=section.stream,
        concurrency=section.concurrency,
    )
    run_until_signalled(notifier.run, notifier.stop, log, consumer=section.consumer)
    log.info("notifier stopped", consumer=section.consumer)
