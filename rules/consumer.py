"""The rules worker: a Redis consumer group on the events stream.

An entry is acknowledged only after its decision is committed. Entries left pending by a dead
worker (or whose processing failed) are claimed again with XAUTOCLAIM once idle long enough;
one that fails `max_failures` times, or is delivered that often without an acknowledgement, goes
to the dead-letter stream with the error. Database or Redis outages are not the entry's fault:
the worker backs off and retries without counting them.
"""

import base64
import gc
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import redis
import structlog
from sqlalchemy.orm import Session, sessionmaker

from records.outbox import OutputStreams, publish, publish_pending
from rules.alerting import forget_snapshots
from rules.config import RulesSettings
from rules.definitions import RuleSet
from rules.engine import TRANSIENT, Engine, Outcome
from shouwang.redis_keys import rules_key

log = structlog.get_logger("shouwang.rules")

HOUSEKEEPING_INTERVAL_S = 3600.0
SWEEP_LIMIT = 500
"""Outbox entries a sweep publishes per transaction; fewer means the outbox is empty."""


Entry = tuple[str, dict[str, str] | None]


def _lock_conflict(error: Exception) -> bool:
    """A deadlock or serialisation failure: the transaction lost a race, the database is fine."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in ("40001", "40P01")


class RulesConsumer:
    """One rules worker: reads, decides, acknowledges; fires timers; publishes the outbox."""

    def __init__(
        self,
        settings: RulesSettings,
        rules: RuleSet,
        sessions: sessionmaker[Session],
        client: redis.Redis,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        section = settings.rules
        self.section = section
        self.client = client
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
        self.failures_key = rules_key(f"failures:{section.group}", section.key_prefix)
        self.counts: dict[str, int] = {}
        self._carry: list[Entry] = []
        self._unpublished: list[int] = []
        self._next_reclaim = 0.0
        self._next_housekeeping = 0.0
        self._stop = threading.Event()

    def _count(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless they exist."""
        try:
            self.client.xgroup_create(
                self.section.stream, self.section.group, id=self.section.group_start, mkstream=True
            )
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def poll(self, block_ms: int | None = None) -> int:
        """One round: retry carried entries, recover a dead worker's entries and outputs if
        due, read and decide new entries, publish their outputs, fire due timers and publish
        theirs. Returns how many entries were handled."""
        handled = 0
        if self._carry:
            carried, self._carry = self._carry, []
            handled += self.handle(carried)
        if time.monotonic() >= self._next_reclaim:
            handled += self.reclaim()
            self.sweep()
            self._next_reclaim = time.monotonic() + self.section.reclaim_interval_s
        handled += self.handle(self.read(block_ms))
        self.publish()
        self.fire_timers()
        self.publish()
        if time.monotonic() >= self._next_housekeeping:
            self.housekeeping()
            self._next_housekeeping = time.monotonic() + HOUSEKEEPING_INTERVAL_S
        return handled

    def read(self, block_ms: int | None = None) -> list[Entry]:
        """New entries for this consumer (they are pending for it until acknowledged); waits
        up to `block_ms` (default: the setting; 0: not at all) for some to arrive."""
        block = self.section.block_ms if block_ms is None else block_ms
        response = cast(
            list[Any],
            self.client.xreadgroup(
                self.section.group,
                self.section.consumer,
                {self.section.stream: ">"},
                count=self.section.batch_size,
                block=block or None,
            ),
        )
        return [entry for _, entries in response or [] for entry in entries]

    def reclaim(self) -> int:
        """Claim entries idle longer than `reclaim_idle_ms` (any consumer's) and handle them."""
        handled = 0
        start = "0-0"
        while True:
            next_id, claimed, *_ = cast(
                list[Any],
                self.client.xautoclaim(
                    self.section.stream,
                    self.section.group,
                    self.section.consumer,
                    min_idle_time=self.section.reclaim_idle_ms,
                    start_id=start,
                    count=self.section.batch_size,
                ),
            )
            if claimed:
                log.info("reclaimed", entries=len(claimed), consumer=self.section.consumer)
                self._count("reclaimed", len(claimed))
                handled += self.handle(self._drop_redelivered(claimed))
            if next_id in ("0-0", b"0-0"):
                return handled

    def _drop_redelivered(self, claimed: list[Entry]) -> list[Entry]:
        """Dead-letter entries delivered too often without an acknowledgement (a worker dies
        on them every time) and return the others."""
        pipe = self.client.pipeline(transaction=False)
        for entry_id, _ in claimed:
            pipe.xpending_range(self.section.stream, self.section.group, entry_id, entry_id, 1)
        keep: list[Entry] = []
        for (entry_id, fields), pending in zip(claimed, pipe.execute(), strict=True):
            delivered = int(pending[0]["times_delivered"]) if pending else 0
            if delivered > self.section.max_failures:
                self._dead_letter(
                    entry_id,
                    fields,
                    f"delivered {delivered} times without being acknowledged "
                    "(a worker stops while processing it)",
                    delivered,
                )
            else:
                keep.append((entry_id, fields))
        return keep

    def handle(self, entries: list[Entry]) -> int:
        """Decide the entries and acknowledge them once committed: all in one transaction, or,
        if one of them fails, each in its own so only that one is retried. A database or Redis
        outage stops the batch: the rest is kept for the next round and the error raised."""
        done = [entry_id for entry_id, fields in entries if fields is None]  # trimmed away
        live = [(entry_id, fields) for entry_id, fields in entries if fields is not None]
        try:
            if live:
                try:
                    with self.sessions.begin() as session:
                        outcome = self.engine.decide(session, live)
                    self._settle(outcome)
                    done += [entry_id for entry_id, _ in live]
                except TRANSIENT as exc:
                    if not _lock_conflict(exc):
                        self._carry = [(entry_id, fields) for entry_id, fields in live]
                        raise
                    self._count("lock_conflicts")  # another worker's batch held the same rows
                    self._one_by_one(live, done)
                except Exception:
                    self._one_by_one(live, done)
        finally:
            if done:
                self._ack(done)
        return len(done)

    def _one_by_one(self, entries: list[tuple[str, dict[str, str]]], done: list[str]) -> None:
        for index, (entry_id, fields) in enumerate(entries):
            try:
                self._settle(self.engine.process(entry_id, fields))
            except TRANSIENT:
                self._carry = [(entry_id, fields) for entry_id, fields in entries[index:]]
                raise
            except Exception as exc:
                self._failed(entry_id, fields, exc)
                continue
            done.append(entry_id)

    def _committed(self, outcome: Outcome) -> None:
        """Count what a committed transaction did and keep its outputs for `publish`."""
        for name, alerts in (
            ("alerts_created", outcome.created),
            ("alerts_updated", outcome.updated),
            ("conditions_ended", outcome.ended),
            ("held", outcome.held),
            ("escalations", outcome.escalated),
        ):
            if alerts:
                self._count(name, len(alerts))
        self._unpublished += outcome.outputs

    def _settle(self, outcome: Outcome) -> None:
        """After deciding entries was committed: count it, then record on the alerts it raised
        or joined the ends of their episodes decided before them (before the entries are
        acknowledged; see rules/ends.py)."""
        self._committed(outcome)
        self._committed(self.engine.early_ends(outcome.episodes))

    def _ack(self, entry_ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.section.stream, self.section.group, *entry_ids)
        pipe.hdel(self.failures_key, *entry_ids)
        pipe.execute()
        self._count("processed", len(entry_ids))

    def _failed(self, entry_id: str, fields: dict[str, str], error: Exception) -> None:
        failures = int(cast(int, self.client.hincrby(self.failures_key, entry_id, 1)))
        detail = f"{type(error).__name__}: {error}"
        log.warning(
            "entry failed",
            entry_id=entry_id,
            key=fields.get("key"),
            failures=failures,
            error=detail,
            exc_info=failures == 1,
        )
        self._count("failures")
        if failures >= self.section.max_failures:
            self._dead_letter(entry_id, fields, detail, failures)

    def _dead_letter(
        self, entry_id: str, fields: dict[str, str] | None, detail: str, attempts: int
    ) -> None:
        fields = fields or {}
        payload = fields.get("payload", "")
        letter = {
            "topic": fields.get("topic", ""),
            "reason": "rules_failed",
            "detail": detail[:2000],
            "payload_b64": base64.b64encode(payload.encode()).decode("ascii"),
            "received_ms": str(int(time.time() * 1000)),
            "worker": f"rules:{self.section.consumer}",
            "stream": self.section.stream,
            "entry_id": entry_id,
            "key": fields.get("key", ""),
            "attempts": str(attempts),
        }
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.section.deadletter_stream, letter, maxlen=100_000, approximate=True)
        pipe.xack(self.section.stream, self.section.group, entry_id)
        pipe.hdel(self.failures_key, entry_id)
        pipe.execute()
        log.error("entry dead-lettered", entry_id=entry_id, key=letter["key"], detail=detail)
        self._count("deadlettered")

    def fire_timers(self) -> None:
        """Raise held conditions that lasted, and do due escalation steps."""
        lease = self.section.timer_lease_ms
        self._committed(self.engine.fire_holds(lease))
        self._committed(self.engine.fire_escalations(lease))

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
        publishing them."""
        published = 0
        while True:
            count = publish_pending(self.sessions, self.client, self.streams, limit=SWEEP_LIMIT)
            published += count
            if count < SWEEP_LIMIT:
                return published

    def run(self) -> None:
        """Work until `stop()`; back off (up to 30 s) while the database or Redis is away."""
        # What exists by now (modules, rules, clients) lives as long as the worker: keep it
        # out of the cyclic collector's full passes, which would otherwise pause every batch
        # for tens of milliseconds now and then.
        gc.collect()
        gc.freeze()
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self.ensure_group()
                while not self._stop.is_set():
                    self.poll()
                    backoff = 0.5
            except TRANSIENT as exc:
                log.warning("database or redis unavailable", error=str(exc), retry_in_s=backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def stop(self) -> None:
        """Ask `run` to return after the round in hand."""
        self._stop.set()
