"""The send stage: deliveries that are due are leased from the delivery log, sent on a pool of
threads through their channel, and each result is recorded as soon as it is known."""

import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.orm import Session, sessionmaker

from notify.channel import Channel, Result
from notify.deliveries import Claimed, Recorded, claim_due, record
from notify.metrics import NotifierMetrics
from notify.retry import Backoff
from notify.settings import NotifySection
from notify.targets import WEBPUSH, redact
from records.notifications import DeliveryError, DeliveryOutcome

log = structlog.get_logger("shouwang.notify")


def _attempt(channel: Channel, claimed: Claimed) -> Result:
    try:
        return channel.send(claimed.message, claimed.target)
    except Exception as exc:  # a channel bug must not stop the worker; the attempt counts
        return Result.retry(f"channel error {type(exc).__name__}: {exc}", DeliveryError.INTERNAL)


class Sender:
    """Keeps up to `concurrency` deliveries in flight; `pump` records finished ones and
    starts due ones. A delivery goes through the channel named by its target's channel
    (`webpush`, `sms`, `voice`, a robot's scheme), any other through `apprise`."""

    def __init__(
        self,
        section: NotifySection,
        sessions: sessionmaker[Session],
        channels: Mapping[str, Channel],
        apprise: Channel,
        backoff: Backoff,
        metrics: NotifierMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.section = section
        self.sessions = sessions
        self.channels = channels
        self.apprise = apprise
        self.backoff = backoff
        self.metrics = metrics
        self.clock = clock
        self.zone = ZoneInfo(section.timezone)
        self.pool = ThreadPoolExecutor(section.concurrency, thread_name_prefix="notify-send")
        self.in_flight: dict[Future[Result], Claimed] = {}

    def pump(self) -> int:
        """Record finished attempts, then start due deliveries up to the free capacity.
        Returns how many deliveries moved (recorded, started or held)."""
        moved = self.record_finished()
        free = self.section.concurrency - len(self.in_flight)
        if free > 0:
            moved += self.start_due(free)
        return moved

    def start_due(self, limit: int) -> int:
        """Lease up to `limit` due deliveries and start sending them."""
        with self.sessions.begin() as session:
            claimed, skipped = claim_due(
                session, self.clock(), limit, self.section.lease_s, self.zone
            )
        for skip in skipped:
            bound = log.bind(alert_id=skip.alert_id, job_id=skip.job_id, delivery=skip.delivery_id)
            if skip.outcome is DeliveryOutcome.HELD:
                self.metrics.held.inc()
                bound.info("held for quiet hours", until=skip.until and skip.until.isoformat())
            elif skip.outcome is DeliveryOutcome.WITHDRAWN:
                self.metrics.withdrawn.inc()
                bound.info("withdrawn", reason=skip.reason)
            else:
                self.metrics.failed.labels(WEBPUSH).inc()
                bound.info("push subscription removed before sending", outcome=skip.outcome.value)
        for item in claimed:
            channel = self.channels.get(item.target.channel, self.apprise)
            self.in_flight[self.pool.submit(_attempt, channel, item)] = item
        return len(claimed) + len(skipped)

    def record_finished(self) -> int:
        """Record the attempts that have finished, in one transaction."""
        done = [future for future in self.in_flight if future.done()]
        if not done:
            return 0
        attempts = [(self.in_flight[future], future.result()) for future in done]
        with self.sessions.begin() as session:
            outcomes = record(session, attempts, self.clock(), self.backoff)
        for future in done:
            del self.in_flight[future]
        for (claimed, result), (recorded, due) in zip(attempts, outcomes, strict=True):
            self._report(claimed, result, recorded, due)
        return len(done)

    def _report(
        self, claimed: Claimed, result: Result, recorded: Recorded, due: datetime | None
    ) -> None:
        channel = claimed.target.channel
        bound = log.bind(
            alert_id=claimed.message.alert_id,
            job_id=claimed.message.job_id,
            delivery=claimed.delivery_id,
            channel=channel,
            target=redact(claimed.target.address),
            attempt=claimed.attempt,
        )
        if recorded is Recorded.SENT:
            self.metrics.sent.labels(channel).inc()
            bound.info("delivered")
        elif recorded is Recorded.RETRY:
            self.metrics.retried.labels(channel).inc()
            bound.warning(
                "delivery failed, will retry", error=result.error, retry_at=due and due.isoformat()
            )
        elif recorded is Recorded.GONE:
            self.metrics.dropped_subscriptions.inc()
            self.metrics.failed.labels(channel).inc()
            bound.info("push subscription gone, removed", error=result.error)
        elif recorded is Recorded.FAILED:
            self.metrics.failed.labels(channel).inc()
            bound.error("delivery failed", error=result.error)
        else:
            bound.warning("attempt outlived its lease; another worker settled the delivery")

    def wait(self, timeout_s: float) -> None:
        """Wait until an attempt finishes, at most `timeout_s`."""
        if self.in_flight:
            wait(list(self.in_flight), timeout=timeout_s, return_when=FIRST_COMPLETED)

    def drain(self) -> None:
        """Finish and record the attempts in flight (when stopping), then stop the threads.
        Attempts still running after `lease_s` are left to their lease: another worker sends
        them again once it runs out."""
        deadline = time.monotonic() + self.section.lease_s
        while self.in_flight and time.monotonic() < deadline:
            self.wait(deadline - time.monotonic())
            self.record_finished()
        self.pool.shutdown(wait=False, cancel_futures=True)
