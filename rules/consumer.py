"""The rules worker: one consumer of the `rules` group on the events stream
(`shouwang.streams` reads, reclaims, acknowledges and dead-letters). It decides entries in
batches, fires due timers and publishes what it committed.
"""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import redis
import structlog
from sqlalchemy.orm import Session, sessionmaker

from records.db import TRANSIENT, lock_conflict
from records.outbox import OutputStreams, publish, publish_pending
from rules.alerting import forget_snapshots
from rules.config import RulesSection, RulesSettings
from rules.definitions import RuleSet
from rules.engine import Engine, Outcome
from rules.metrics import RulesMetrics
from shouwang.metrics_http import CounterTotals
from shouwang.redis_client import refresh
from shouwang.service import run_rounds
from shouwang.streams import Count, StreamConsumer

log = structlog.get_logger("shouwang.rules")

HOUSEKEEPING_INTERVAL_S = 3600.0
SWEEP_LIMIT = 500
"""Outbox entries a sweep publishes per transaction; fewer means the outbox is empty."""


class RulesConsumer(StreamConsumer[RulesSection, dict[str, str]]):
    """One rules worker: reads, decides, acknowledges; fires timers; publishes the outbox."""

    role = "rules"
    outage = TRANSIENT

    def __init__(
        self,
        settings: RulesSettings,
        rules: RuleSet,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        *,
        clock: Callable[[], float] = time.time,
        metrics: RulesMetrics | None = None,
    ) -> None:
        section = settings.rules
        super().__init__(section, client)
        self.rules = rules
        self.sessions = sessions
        self.engine = Engine(
            rules,
            sessions,
            client,
            timezone=section.timezone,
            key_prefix=section.key_prefix,
            coverage_cache_s=section.coverage_cache_s,
            end_wait_s=section.end_wait_s,
            clock=clock,
        )
        self.streams = OutputStreams(
            alerts=section.alerts_stream,
            notifications=section.notifications_stream,
            maxlen=section.output_maxlen,
        )
        self.metrics = metrics or RulesMetrics()
        self._unpublished: list[int] = []
        self._next_housekeeping = 0.0
        self._stop = threading.Event()

    def counted(self, name: Count | str, amount: int) -> None:
        self.metrics.count(name, amount)

    @property
    def counts(self) -> CounterTotals:
        """What the worker counted so far, by name (`rules.metrics.COUNTS`), live."""
        return self.metrics.counts

    def poll(self, block_ms: int | None = None) -> int:
        """One round: retry carried entries, recover a dead worker's entries and outputs if
        due, read and decide new entries, publish their outputs, fire due timers and publish
        theirs. Returns how many entries were handled."""
        handled = self.consume(block_ms)
        self.publish()
        self.fire_timers()
        self.publish()
        if time.monotonic() >= self._next_housekeeping:
            self.housekeeping()
            self._next_housekeeping = time.monotonic() + HOUSEKEEPING_INTERVAL_S
        return handled

    def reclaim(self) -> int:
        """Claim and decide a dead worker's entries, then publish the outputs it committed and
        did not publish (`sweep`)."""
        handled = super().reclaim()
        self.sweep()
        return handled

    def parse(self, entry_id: str, fields: dict[str, str]) -> dict[str, str]:
        return fields  # the engine reads entries while deciding: a bad one fails its batch

    def commit(self, items: list[tuple[str, dict[str, str]]]) -> None:
        """Decide entries in one transaction, then record the ends decided before them."""
        with self.sessions.begin() as session:
            outcome = self.engine.decide(session, items)
        self._settle(outcome)

    def lost_race(self, error: Exception) -> bool:
        return lock_conflict(error)

    def _committed(self, outcome: Outcome) -> None:
        """Count what a committed transaction did and keep its outputs for `publish`."""
        for name, alerts in (
            ("alerts_created", outcome.created),
            ("alerts_updated", outcome.updated),
            ("conditions_ended", outcome.ended),
            ("held", outcome.held),
            ("escalations", outcome.escalated),
            ("responses", outcome.responded),
        ):
            if alerts:
                self.counted(name, len(alerts))
        self._unpublished += outcome.outputs

    def _settle(self, outcome: Outcome) -> None:
        """After deciding entries was committed: count it, then record on the alerts it raised
        or joined the ends of their episodes decided before them (before the entries are
        acknowledged; see rules/ends.py)."""
        self._committed(outcome)
        self._committed(self.engine.early_ends(outcome.episodes))

    def fire_timers(self) -> None:
        """Raise held conditions and silences that lasted, do due escalation steps and what
        the response circle has due."""
        lease = self.section.timer_lease_ms
        self._committed(self.engine.fire_holds(lease))
        section = self.section
        self._committed(self.engine.fire_silences(lease, section.stream, section.group))
        self._committed(self.engine.fire_escalations(lease))
        self._committed(self.engine.fire_lifecycle(lease))

    def housekeeping(self) -> None:
        """Prune snapshot records that waited longer than `snapshot_wait_s` for their event."""
        before = self.engine.now() - timedelta(seconds=self.section.snapshot_wait_s)
        with self.sessions.begin() as session:
            pruned = forget_snapshots(session, before)
        if pruned:
            log.info("snapshot records pruned", count=pruned)

    def publish(self) -> int:
        """Publish the alert changes and notification jobs this worker committed and has not
        published yet (if none, without a database round trip)."""
        published = publish(self.sessions, self.client, self.streams, self._unpublished)
        self._unpublished = []
        return published

    def sweep(self) -> int:
        """Publish outbox entries nobody published: a worker died between its commit and
        publishing them, or Redis was away after a commit (the API's timer changes too)."""
        published = 0
        while True:
            count = publish_pending(self.sessions, self.client, self.streams, limit=SWEEP_LIMIT)
            published += count
            if count < SWEEP_LIMIT:
                return published

    def run(self) -> None:
        """Work until `stop()`; back off (up to 30 s) while the database or Redis is away."""
        run_rounds(self.poll, self._stop, prepare=self._prepare, outage=TRANSIENT, log=log)

    def _prepare(self) -> None:
        refresh(self.client)
        self.ensure_group()

    def stop(self) -> None:
        """Ask `run` to return after the round in hand."""
        self._stop.set()
