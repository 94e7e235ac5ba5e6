"""The intake stage: one consumer of the `notifier` group on the notifications stream
(`shouwang.streams` reads, reclaims, acknowledges and dead-letters). A job is acknowledged only
once its deliveries are committed; a job that cannot be read, or whose planning keeps failing,
goes to the dead-letter stream so it never holds up the others."""

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import redis
import structlog
from sqlalchemy.orm import Session, sessionmaker

from notify.metrics import NotifierMetrics
from notify.plan import Plan, plan_job, read_job
from notify.settings import NotifySection
from records.db import TRANSIENT, lock_conflict
from records.feed import NotificationJob
from shouwang.streams import Count, Letter, StreamConsumer

log = structlog.get_logger("shouwang.notify")


class JobConsumer(StreamConsumer[NotifySection, NotificationJob]):
    """Reads notification jobs, plans their deliveries, acknowledges them after commit."""

    role = "notify"
    outage = TRANSIENT

    def __init__(
        self,
        section: NotifySection,
        client: redis.Redis,
        sessions: sessionmaker[Session],
        metrics: NotifierMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(section, client)
        self.sessions = sessions
        self.metrics = metrics
        self.clock = clock

    def parse(self, entry_id: str, fields: dict[str, str]) -> NotificationJob:
        return read_job(fields)

    def commit(self, items: list[tuple[str, NotificationJob]]) -> None:
        """Plan the jobs in one transaction."""
        with self.sessions.begin() as session:
            plans = [plan_job(session, job, self.clock()) for _, job in items]
        for plan in plans:
            self._report(plan)

    def lost_race(self, error: Exception) -> bool:
        return lock_conflict(error)

    def counted(self, name: Count, amount: int) -> None:
        if name == "deadlettered":
            self.metrics.jobs.labels("poison").inc(amount)

    def letter(self, fields: dict[str, str]) -> Letter:
        return Letter("", json.dumps(fields, ensure_ascii=False), fields.get("job_id", ""))

    def log_fields(self, fields: dict[str, str]) -> dict[str, Any]:
        return {"alert_id": fields.get("alert_id"), "job_id": fields.get("job_id")}

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
