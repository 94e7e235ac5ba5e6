"""Run a rules worker until SIGINT/SIGTERM."""

import gc

import structlog

from records.db import make_engine, make_sessionmaker
from records.migrate import require_current
from rules.config import RulesSettings
from rules.consumer import RulesConsumer
from rules.definitions import RuleSet
from rules.partitioned import PartitionedWorker
from shouwang.redis_client import connect
from shouwang.service import run_until_signalled

log = structlog.get_logger("shouwang.rules")


def build_consumer(settings: RulesSettings, rules: RuleSet) -> RulesConsumer | PartitionedWorker:
    """A worker wired to the configured database (which must be migrated) and Redis: the
    consumer of the one stream, or with partitions a worker of its share of them. No pre-ping
    round trip per transaction: a transaction that fails on a stale connection is retried as
    a database outage (the pool replaces the connection)."""
    engine = make_engine(settings.database.url, echo=settings.database.echo, pre_ping=False)
    require_current(engine)
    client = connect(settings.redis, decode_responses=True, socket_timeout=30)
    worker = PartitionedWorker if settings.partitions.enabled else RulesConsumer
    return worker(settings, rules, make_sessionmaker(engine), client)


def run_worker(worker: RulesConsumer | PartitionedWorker) -> None:
    """Run one worker in this process; SIGINT or SIGTERM stops it after the round in hand."""
    section = worker.section
    log.info(
        "rules worker started",
        consumer=section.consumer,
        group=section.group,
        stream=section.stream,
        partitioned=isinstance(worker, PartitionedWorker),
        rules=len(worker.rules.enabled()),
    )
    # What exists by now (modules, rules, clients) lives as long as the worker: keep it out of
    # the cyclic collector's full passes, which would otherwise pause every batch for tens of
    # milliseconds now and then.
    gc.collect()
    gc.freeze()
    run_until_signalled(worker.run, worker.stop, log, consumer=section.consumer)
    log.info("rules worker stopped", **worker.counts)
