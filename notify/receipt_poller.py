"""The receipt stage: every `interval_s` the vendors are asked, on a thread of their own so that
sending goes on, for the receipts of `sent` texts and calls; each is recorded on its delivery,
and a text not delivered or a call not answered hands its job over to the next channel of the
order at once (the fall-back a failed delivery takes)."""

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from notify.metrics import NotifierMetrics
from notify.order import fall_back
from notify.receipts import (
    Awaiting,
    LookUp,
    Pull,
    Receipt,
    ReceiptError,
    UnreadableReceipt,
    claim_awaiting,
    record_receipts,
)
from notify.settings import ReceiptsSection
from records.db import TRANSIENT
from records.notifications import NOT_REACHED

log = structlog.get_logger("shouwang.notify")

Found = list[tuple[str, Receipt]]
"""Receipts by channel, as a round found them."""


class ReceiptPoller:
    """Asks the vendors for receipts (`lookups` one message at a time, `pulls` for the whole
    account, each receipt once) and records what they said. What a round brought is kept until
    it is committed, and job hand-overs until they are: a database outage loses neither."""

    def __init__(
        self,
        section: ReceiptsSection,
        sessions: sessionmaker[Session],
        lookups: Mapping[str, LookUp],
        pulls: Mapping[str, Pull],
        metrics: NotifierMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.section = section
        self.sessions = sessions
        self.lookups = lookups
        self.pulls = pulls
        self.metrics = metrics
        self.clock = clock
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="notify-receipts")
        self.round: Future[Found] | None = None
        self.unrecorded: Found = []
        self.handover: set[str] = set()
        self.due_at: datetime | None = None
        self._stopping = threading.Event()

    @property
    def in_flight(self) -> bool:
        """Whether a round is asking the vendors."""
        return self.round is not None

    def poll(self) -> int:
        """Record what a finished round found, hand over the jobs it says missed their person,
        and start the next round when it is due. Returns how much moved."""
        if not self.section.interval_s or not (self.lookups or self.pulls):
            return 0
        moved = self._collect()
        now = self.clock()
        if self.round is None and (self.due_at is None or now >= self.due_at):
            self.due_at = now + timedelta(seconds=self.section.interval_s)
            with self.sessions.begin() as session:
                claimed = {
                    channel: claim_awaiting(
                        session,
                        channel,
                        now,
                        self.section.window_s,
                        self.section.interval_s,
                        self.section.batch_size,
                    )
                    for channel in self.lookups
                }
            self.round = self.pool.submit(self._ask, claimed)
            moved += 1
        return moved

    def _collect(self) -> int:
        if self.round is not None and self.round.done():
            finished, self.round = self.round, None
            self.unrecorded.extend(finished.result())
        moved = self._record() if self.unrecorded else 0
        return moved + (self._hand_over() if self.handover else 0)

    def _ask(self, claimed: Mapping[str, list[Awaiting]]) -> Found:
        found: Found = []
        for channel, puller in self.pulls.items():
            try:
                found += [(channel, receipt) for receipt in puller.pull()]
            except Exception as exc:  # ReceiptError, or a reader's bug: ask again next round
                self._failed(channel, exc)
        for channel, awaiting in claimed.items():
            reader = self.lookups[channel]
            for item in awaiting:
                if self._stopping.is_set():
                    return found
                try:
                    receipt = reader.look_up(item)
                except UnreadableReceipt as exc:
                    log.error(
                        "receipt unreadable, will ask again",
                        channel=channel,
                        delivery=item.delivery_id,
                        error=str(exc),
                    )
                    continue
                except Exception as exc:
                    self._failed(channel, exc)
                    break
                if receipt is not None:
                    found.append((channel, receipt))
        return found

    def _failed(self, channel: str, exc: Exception) -> None:
        self.metrics.receipt_errors.labels(channel).inc()
        error = str(exc) if isinstance(exc, ReceiptError) else f"{type(exc).__name__}: {exc}"
        log.warning("asking for receipts failed, will ask again", channel=channel, error=error)

    def _record(self) -> int:
        now = self.clock()
        channels = sorted({channel for channel, _ in self.unrecorded})
        with self.sessions.begin() as session:
            results = {
                channel: record_receipts(
                    session, channel, [r for c, r in self.unrecorded if c == channel], now
                )
                for channel in channels
            }
        count = len(self.unrecorded)
        self.unrecorded = []
        for channel, (recorded, unknown) in results.items():
            for item in recorded:
                receipt = item.receipt
                self.metrics.receipts.labels(channel, receipt.receipt.value).inc()
                log.info(
                    "receipt",
                    alert_id=item.alert_id,
                    job_id=item.job_id,
                    delivery=item.delivery_id,
                    channel=channel,
                    receipt=receipt.receipt.value,
                    code=receipt.code,
                )
                if receipt.receipt in NOT_REACHED:
                    self.handover.add(item.job_id)
            for receipt in unknown:
                self.metrics.receipts_unmatched.labels(channel).inc()
                log.warning(
                    "receipt for no known delivery, ignored",
                    channel=channel,
                    vendor_id=receipt.vendor_id,
                    receipt=receipt.receipt.value,
                    code=receipt.code,
                )
        return count

    def _hand_over(self) -> int:
        now = self.clock()
        with self.sessions.begin() as session:
            moved = [
                (d.job.alert_id, d.job_id, d.id, d.channel)
                for d in fall_back(session, self.handover, now)
            ]
        self.handover.clear()
        for alert_id, job_id, delivery, channel in moved:
            self.metrics.handed_over.inc()
            log.info(
                "not reached: the next channel takes over",
                alert_id=alert_id,
                job_id=job_id,
                delivery=delivery,
                channel=channel,
            )
        return len(moved)

    def drain(self) -> None:
        """Stop asking, record what the round in hand found (a pull's receipts are handed
        out once), then stop the thread."""
        self._stopping.set()
        if self.round is not None:
            wait([self.round])
        try:
            self._collect()
        except TRANSIENT as exc:
            lost = [f"{channel}:{r.vendor_id}:{r.receipt.value}" for channel, r in self.unrecorded]
            log.error("receipts not recorded at stop", receipts=lost, error=str(exc))
        self.pool.shutdown(wait=False, cancel_futures=True)
