"""The intake stage: a Redis consumer group on the notifications stream. A job is acknowledged
only once its deliveries are committed; jobs left pending by a dead worker are claimed with
XAUTOCLAIM; a job that cannot be read, or whose planning keeps failing, goes to the dead-letter
stream so it never holds up the others."""

import base64
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import redis
import structlog
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from notify.metrics import NotifierMetrics
from notify.plan import Plan, PoisonJob, plan_job, read_job
from notify.settings import NotifySection
from records.feed import NotificationJob

log = structlog.get_logger("shouwang.notify")

TRANSIENT = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)
"""Errors of the database or Redis, not of the job: retried without counting a failure."""

Entry = tuple[str, dict[str, str] | None]
Job = tuple[str, NotificationJob, dict[str, str]]


def _lock_conflict(error: Exception) -> bool:
    """A deadlock or serialisation failure: the transaction lost a race, the database is fine."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in ("40001", "40P01")


class JobConsumer:
    """Reads notification jobs, plans their deliveries, acknowledges them after commit."""

    def __init__(
        self,
        section: NotifySection,
        client: redis.Redis,
        sessions: sessionmaker[Session],
        metrics: NotifierMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.section = section
        self.client = client
        self.sessions = sessions
        self.metrics = metrics
        self.clock = clock
        self.failures_key = f"{section.key_prefix}:failures:{section.group}"
        self.carry: list[Entry] = []
        """Entries read but not handled because the database or Redis was away."""
        self._next_reclaim = 0.0

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless they exist."""
        try:
            self.client.xgroup_create(
                self.section.stream, self.section.group, id=self.section.group_start, mkstream=True
            )
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def poll(self, block_ms: int) -> int:
        """Handle carried entries, reclaim if due, then read and handle new ones (waiting up to
        `block_ms`, 0: not at all). Returns how many jobs were acknowledged."""
        handled = 0
        if self.carry:
            carried, self.carry = self.carry, []
            handled += self.handle(carried)
        if time.monotonic() >= self._next_reclaim:
            handled += self.reclaim()
            self._next_reclaim = time.monotonic() + self.section.reclaim_interval_s
        return handled + self.handle(self.read(block_ms))

    def read(self, block_ms: int) -> list[Entry]:
        """New entries for this consumer (pending for it until acknowledged)."""
        response = cast(
            list[Any],
            self.client.xreadgroup(
                self.section.group,
                self.section.consumer,
                {self.section.stream: ">"},
                count=self.section.batch_size,
                block=block_ms or None,
            ),
        )
        return [entry for _, entries in response or [] for entry in entries]

    def reclaim(self) -> int:
        """Claim and handle entries idle longer than `reclaim_idle_ms` (a dead worker's)."""
        handled, start = 0, "0-0"
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
                log.info("jobs reclaimed", entries=len(claimed), consumer=self.section.consumer)
                handled += self.handle(self._drop_redelivered(claimed))
            if next_id in ("0-0", b"0-0"):
                return handled
            start = next_id

    def _drop_redelivered(self, claimed: list[Entry]) -> list[Entry]:
        pipe = self.client.pipeline(transaction=False)
        for entry_id, _ in claimed:
            pipe.xpending_range(self.section.stream, self.section.group, entry_id, entry_id, 1)
        keep: list[Entry] = []
        for (entry_id, fields), pending in zip(claimed, pipe.execute(), strict=True):
            delivered = int(pending[0]["times_delivered"]) if pending else 0
            if delivered > self.section.max_failures:
                detail = f"delivered {delivered} times without being acknowledged"
                self._dead_letter(entry_id, fields, detail, delivered)
            else:
                keep.append((entry_id, fields))
        return keep

    def handle(self, entries: list[Entry]) -> int:
        """Plan the entries' jobs in one transaction (each in its own if one fails) and
        acknowledge them. A database or Redis outage keeps the rest for the next round."""
        done = [entry_id for entry_id, fields in entries if fields is None]  # trimmed away
        jobs: list[Job] = []
        for entry_id, fields in entries:
            if fields is None:
                continue
            try:
                jobs.append((entry_id, read_job(fields), fields))
            except PoisonJob as exc:
                self._dead_letter(entry_id, fields, str(exc), 1)
        try:
            if jobs:
                try:
                    with self.sessions.begin() as session:
                        plans = [plan_job(session, job, self.clock()) for _, job, _ in jobs]
                    done += [entry_id for entry_id, _, _ in jobs]
                    for plan in plans:
                        self._report(plan)
                except TRANSIENT as exc:
                    if not _lock_conflict(exc):
                        self.carry = [(entry_id, fields) for entry_id, _, fields in jobs]
                        raise
                    self._one_by_one(jobs, done)  # lost a race with another worker's batch
                except Exception:
                    self._one_by_one(jobs, done)
        finally:
            if done:
                self._ack(done)
        return len(done)

    def _one_by_one(self, jobs: list[Job], done: list[str]) -> None:
        for index, (entry_id, job, fields) in enumerate(jobs):
            try:
                with self.sessions.begin() as session:
                    plan = plan_job(session, job, self.clock())
            except TRANSIENT as exc:
                if _lock_conflict(exc):
                    continue  # pending: planned again when reclaimed
                self.carry = [(entry_id, fields) for entry_id, _, fields in jobs[index:]]
                raise
            except Exception as exc:
                self._failed(entry_id, job, fields, exc)
                continue
            done.append(entry_id)
            self._report(plan)

    def _report(self, plan: Plan) -> None:
        bound = log.bind(alert_id=plan.alert_id, job_id=plan.job_id)
        if not plan.new:
            self.metrics.jobs.labels("duplicate").inc()
            bound.info("job seen before, not planned again")
            return
        self.metrics.jobs.labels("planned").inc()
        bound.info("job planned", deliveries=plan.deliveries)
        for reason in plan.unreachable:
            bound.warning("channel without target", error=reason)

    def _ack(self, entry_ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.section.stream, self.section.group, *entry_ids)
        pipe.hdel(self.failures_key, *entry_ids)
        pipe.execute()

    def _failed(
        self, entry_id: str, job: NotificationJob, fields: dict[str, str], error: Exception
    ) -> None:
        failures = int(cast(int, self.client.hincrby(self.failures_key, entry_id, 1)))
        detail = f"{type(error).__name__}: {error}"
        log.warning(
            "job failed",
            alert_id=job.alert_id,
            job_id=job.job_id,
            entry_id=entry_id,
            failures=failures,
            error=detail,
            exc_info=failures == 1,
        )
        if failures >= self.section.max_failures:
            self._dead_letter(entry_id, fields, detail, failures)

    def _dead_letter(
        self, entry_id: str, fields: dict[str, str] | None, detail: str, attempts: int
    ) -> None:
        fields = fields or {}
        payload = json.dumps(fields, ensure_ascii=False)
        letter = {
            "topic": "",
            "reason": "notify_failed",
            "detail": detail[:2000],
            "payload_b64": base64.b64encode(payload.encode()).decode("ascii"),
            "received_ms": str(int(time.time() * 1000)),
            "worker": f"notify:{self.section.consumer}",
            "stream": self.section.stream,
            "entry_id": entry_id,
            "key": fields.get("job_id", ""),
            "attempts": str(attempts),
        }
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.section.deadletter_stream, letter, maxlen=100_000, approximate=True)
        pipe.xack(self.section.stream, self.section.group, entry_id)
        pipe.hdel(self.failures_key, entry_id)
        pipe.execute()
        self.metrics.jobs.labels("poison").inc()
        log.error(
            "job dead-lettered",
            alert_id=fields.get("alert_id"),
            job_id=letter["key"],
            entry_id=entry_id,
            error=detail,
        )
