"""A rules worker over partitions: it holds its share of the partitions in the group's lease
table (`shouwang.leases`) and runs, on a thread each, the single-stream consumer on every
partition it holds — that partition's stream, consumer group, failure counts and timers. A
worker that dies stops renewing; its partitions move to the others, which reclaim what it
left pending (`rules.reclaim_idle_ms`)."""

import threading
import time
from collections.abc import Callable

import redis
import structlog
from sqlalchemy.orm import Session, sessionmaker

from rules.config import RulesSettings
from rules.consumer import RulesConsumer
from rules.definitions import RuleSet
from rules.metrics import RulesMetrics
from shouwang.leases import PartitionLeases
from shouwang.metrics_http import CounterTotals
from shouwang.partitions import in_partition
from shouwang.redis_client import refresh
from shouwang.redis_keys import partitions_key
from shouwang.service import run_rounds
from shouwang.streams import REDIS_OUTAGE

log = structlog.get_logger("shouwang.rules")


class PartitionedWorker:
    """One rules worker of a partitioned deployment. `run()` blocks until `stop()`."""

    def __init__(
        self,
        settings: RulesSettings,
        rules: RuleSet,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.section = settings.rules
        self.rules = rules
        self.sessions = sessions
        self.client = client
        self.clock = clock
        self.metrics = RulesMetrics()
        self.leases = PartitionLeases(
            client,
            self.section.key_prefix,
            self.section.group,
            self.section.consumer,
            int(self.section.lease_ttl_s * 1000),
        )
        self.consumers: dict[str, tuple[RulesConsumer, threading.Thread]] = {}
        self._stop = threading.Event()

    @property
    def counts(self) -> CounterTotals:
        """What the worker's consumers counted so far, by name, live."""
        return self.metrics.counts

    def held(self) -> list[str]:
        """The partitions this worker works now."""
        return sorted(self.consumers)

    def consumer_for(self, partition: str) -> RulesConsumer:
        """The consumer of one partition: the single-stream consumer on its names. Its group
        reads the stream from the start: the stream appeared with its first entry."""
        section = self.section.model_copy(
            update={
                "stream": in_partition(self.section.stream, partition),
                "key_prefix": in_partition(self.section.key_prefix, partition),
                "group_start": "0",
            }
        )
        return RulesConsumer(
            self.settings.model_copy(update={"rules": section}),
            self.rules,
            self.sessions,
            self.client,
            clock=self.clock,
            metrics=self.metrics,
        )

    def rebalance(self) -> None:
        """Renew the lease on this worker's share of the partitions there are, start the
        consumers of those it gained (or whose thread died) and stop those of the rest."""
        partitions = self.client.smembers(partitions_key(self.section.stream))
        held = set(self.leases.renew([_text(p) for p in partitions]))
        for partition in sorted(set(self.consumers) - held):
            self._stop_consumer(partition)
            log.info("partition given up", partition=partition, consumer=self.section.consumer)
        for partition in sorted(held):
            running = self.consumers.get(partition)
            if running is not None and running[1].is_alive():
                continue
            if running is not None:
                log.error("partition consumer died; starting it again", partition=partition)
            consumer = self.consumer_for(partition)
            thread = threading.Thread(target=consumer.run, name=f"rules-{partition}", daemon=True)
            thread.start()
            self.consumers[partition] = (consumer, thread)
            log.info("partition taken", partition=partition, consumer=self.section.consumer)

    def _stop_consumer(self, partition: str) -> None:
        consumer, thread = self.consumers.pop(partition)
        consumer.stop()
        thread.join(60)

    def _round(self) -> None:
        self.rebalance()
        self._stop.wait(self.section.lease_ttl_s / 3)

    def run(self) -> None:
        """Hold partitions and work them until `stop()`; then stop every consumer after its
        round and give the partitions back."""
        try:
            run_rounds(
                self._round,
                self._stop,
                prepare=lambda: refresh(self.client),
                outage=REDIS_OUTAGE,
                log=log,
            )
        finally:
            for partition in list(self.consumers):
                self._stop_consumer(partition)
            try:
                self.leases.release()
            except REDIS_OUTAGE as exc:  # the lease runs out by itself
                log.warning("could not give the partitions back", error=str(exc))

    def stop(self) -> None:
        """Ask `run` to return."""
        self._stop.set()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
