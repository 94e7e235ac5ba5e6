"""Run a rules worker until SIGINT/SIGTERM."""

import structlog

from records.db import make_engine, make_sessionmaker
from records.migrate import require_current
from rules.config import RulesSettings
from rules.consumer import RulesConsumer
from rules.definitions import RuleSet
from shouwang.redis_client import connect
from shouwang.service import run_until_signalled

log = structlog.get_logger("shouwang.rules")


def build_consumer(settings: RulesSettings, rules: RuleSet) -> RulesConsumer:
    """A consumer wired to the configured database (which must be migrated) and Redis. No
    pre-ping round trip per transaction: a transaction that fails on a stale connection is
    retried as a database outage (the pool replaces the connection)."""
    engine = make_engine(settings.database.url, echo=settings.database.echo, pre_ping=False)
    require_current(engine)
    client = connect(settings.redis, decode_responses=True, socket_timeout=30)
    return RulesConsumer(settings, rules, make_sessionmaker(engine), client)


def run_worker(consumer: RulesConsumer) -> None:
    """Run one worker in this process; SIGINT or SIGTERM stops it after the round in hand."""
    section = consumer.section
    log.info(
        "rules worker started",
        consumer=section.consumer,
        group=section.group,
        stream=section.stream,
        rules=len(consumer.engine.enabled),
    )
    run_until_signalled(consumer.run, consumer.stop, log, consumer=section.consumer)
    log.info("rules worker stopped", **consumer.counts)
