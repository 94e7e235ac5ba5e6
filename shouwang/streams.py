"""One worker of a Redis Streams consumer group: the base of the rules worker and the notifier.

An entry is acknowledged only after it was handled (its work committed). Entries left pending
by a dead worker, or whose handling failed, are claimed again with XAUTOCLAIM once idle long
enough; one that fails `max_failures` times, or is delivered that often without an
acknowledgement, goes to the dead-letter stream with the error. Outages of what handling needs
(Redis, a database) are not the entry's fault: the entries are carried to the next round and
the error raised, so the run loop backs off without counting a failure.
"""

import base64
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Generic, Literal, NamedTuple, Protocol, TypeVar, cast

import redis
import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shouwang.partitions import in_partition
from shouwang.redis_client import CLUSTER_OUTAGE

Entry = tuple[str, dict[str, str] | None]
"""A stream entry as read: its id and fields (None: trimmed from the stream meanwhile)."""

REDIS_OUTAGE: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    *CLUSTER_OUTAGE,
)
"""Redis errors that say Redis is away (or a cluster fails over), not that a command was
wrong."""

Count = Literal["processed", "reclaimed", "failures", "deadlettered", "lock_conflicts"]
"""What a consumer counts: entries acknowledged, claimed from another worker, failed,
dead-lettered, and batches retried one by one after losing a race for database rows."""

SCAN_FACTOR = 10
"""XAUTOCLAIM looks at most COUNT × 10 pending entries per call (Redis 7)."""


class GroupSection(Protocol):
    """The settings a consumer-group worker reads (the rules and notify sections have them)."""

    stream: str
    group: str
    group_start: str
    consumer: str
    batch_size: int
    block_ms: int
    max_failures: int
    reclaim_idle_ms: int
    reclaim_interval_s: float
    deadletter_stream: str
    key_prefix: str


class PoisonEntry(ValueError):
    """An entry that can never be handled (unreadable): dead-lettered at once."""


class Letter(NamedTuple):
    """What a dead letter says about the entry it replaces."""

    topic: str
    payload: str
    key: str


SectionT = TypeVar("SectionT", bound=GroupSection)
ItemT = TypeVar("ItemT")


class StreamConsumer(ABC, Generic[SectionT, ItemT]):
    """Reads, reclaims, acknowledges and dead-letters; subclasses say how entries are parsed
    (`parse`) and handled (`commit`)."""

    role: ClassVar[str]
    """Who consumes: the dead letters' reason is `<role>_failed`, their worker
    `<role>:<consumer>`."""
    outage: ClassVar[tuple[type[Exception], ...]] = REDIS_OUTAGE
    """Errors that stop a batch without counting against its entries."""

    def __init__(self, section: SectionT, client: redis.Redis) -> None:
        self.section = section
        self.client = client
        self.failures_key = f"{section.key_prefix}:failures:{section.group}"
        self.log = structlog.get_logger(f"shouwang.{self.role}")
        self.carry: list[Entry] = []
        """Entries read but not handled because of an outage or a lost race: the next round
        handles them first."""
        self._next_reclaim = 0.0

    # -- hooks ---------------------------------------------------------------------------

    @abstractmethod
    def parse(self, entry_id: str, fields: dict[str, str]) -> ItemT:
        """What `commit` works on. Raises `PoisonEntry` for an entry that can never be
        handled."""

    @abstractmethod
    def commit(self, items: list[tuple[str, ItemT]]) -> None:
        """Handle the items in one transaction; raises if any of them cannot be handled."""

    def lost_race(self, error: Exception) -> bool:
        """Whether an `outage` error is a lost race (another worker held the same rows), to be
        retried at once rather than waited out."""
        return False

    def counted(self, name: Count, amount: int) -> None:
        """Note a count (metrics)."""

    def letter(self, fields: dict[str, str]) -> Letter:
        """The topic, payload and key a dead letter keeps of the entry (an events-stream
        entry's own)."""
        return Letter(fields.get("topic", ""), fields.get("payload", ""), fields.get("key", ""))

    def log_fields(self, fields: dict[str, str]) -> dict[str, Any]:
        """What log lines about the entry say to identify it."""
        return {"key": fields.get("key")}

    # -- reading ---------------------------------------------------------------------------

    def ensure_group(self) -> None:
        """Create the consumer group (and the stream) unless they exist."""
        try:
            self.client.xgroup_create(
                self.section.stream, self.section.group, id=self.section.group_start, mkstream=True
            )
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def consume(self, block_ms: int | None = None) -> int:
        """Handle carried entries, reclaim if due, then read and handle new entries (waiting up
        to `block_ms`, default the setting, 0 not at all). Returns how many were acknowledged."""
        handled = 0
        if self.carry:
            carried, self.carry = self.carry, []
            handled += self.handle(carried)
        if time.monotonic() >= self._next_reclaim:
            handled += self.reclaim()
            self._next_reclaim = time.monotonic() + self.section.reclaim_interval_s
        return handled + self.handle(self.read(block_ms))

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
        """Claim entries idle longer than `reclaim_idle_ms` (any consumer's) and handle them,
        scanning the whole pending list once: each XAUTOCLAIM goes on from the cursor the last
        one returned, so pending entries not yet idle cannot hold the scan in one place."""
        handled, cursor = 0, "0-0"
        while True:
            cursor, claimed, *_ = cast(
                list[Any],
                self.client.xautoclaim(
                    self.section.stream,
                    self.section.group,
                    self.section.consumer,
                    min_idle_time=self.section.reclaim_idle_ms,
                    start_id=cursor,
                    count=self.section.batch_size,
                ),
            )
            if claimed:
                self.log.info(
                    "entries reclaimed", entries=len(claimed), consumer=self.section.consumer
                )
                self.counted("reclaimed", len(claimed))
                handled += self.handle(self._drop_redelivered(claimed))
            if cursor in ("0-0", b"0-0"):
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

    # -- handling --------------------------------------------------------------------------

    def handle(self, entries: list[Entry]) -> int:
        """Handle the entries and acknowledge them: all in one `commit`, or, if that fails,
        each in its own so only the failing one is retried. Trimmed entries are acknowledged,
        poison ones dead-lettered. An outage stops the batch: the rest is carried to the next
        round and the error raised. Returns how many were acknowledged."""
        done = [entry_id for entry_id, fields in entries if fields is None]  # trimmed away
        items: list[tuple[str, ItemT, dict[str, str]]] = []
        for entry_id, fields in entries:
            if fields is None:
                continue
            try:
                items.append((entry_id, self.parse(entry_id, fields), fields))
            except PoisonEntry as exc:
                self._dead_letter(entry_id, fields, str(exc), 1)
        try:
            if items:
                try:
                    self.commit([(entry_id, item) for entry_id, item, _ in items])
                    done += [entry_id for entry_id, _, _ in items]
                except self.outage as exc:
                    if not self.lost_race(exc):
                        self.carry = [(entry_id, fields) for entry_id, _, fields in items]
                        raise
                    self.counted("lock_conflicts", 1)
                    self._one_by_one(items, done)
                except Exception:
                    self._one_by_one(items, done)
        finally:
            if done:
                self._ack(done)
        return len(done)

    def _one_by_one(self, items: list[tuple[str, ItemT, dict[str, str]]], done: list[str]) -> None:
        for index, (entry_id, item, fields) in enumerate(items):
            try:
                self.commit([(entry_id, item)])
            except self.outage as exc:
                self.carry = [(entry_id, fields) for entry_id, _, fields in items[index:]]
                if not self.lost_race(exc):
                    raise
                self.counted("lock_conflicts", 1)  # lost again: the next round tries again
                return
            except Exception as exc:
                self._failed(entry_id, fields, exc)
                continue
            done.append(entry_id)

    def _ack(self, entry_ids: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.section.stream, self.section.group, *entry_ids)
        pipe.hdel(self.failures_key, *entry_ids)
        pipe.execute()
        self.counted("processed", len(entry_ids))

    def _failed(self, entry_id: str, fields: dict[str, str], error: Exception) -> None:
        failures = int(cast(int, self.client.hincrby(self.failures_key, entry_id, 1)))
        detail = f"{type(error).__name__}: {error}"
        self.log.warning(
            "entry failed",
            entry_id=entry_id,
            **self.log_fields(fields),
            failures=failures,
            error=detail,
            exc_info=failures == 1,
        )
        self.counted("failures", 1)
        if failures >= self.section.max_failures:
            self._dead_letter(entry_id, fields, detail, failures)

    def _dead_letter(
        self, entry_id: str, fields: dict[str, str] | None, detail: str, attempts: int
    ) -> None:
        fields = fields or {}
        topic, payload, key = self.letter(fields)
        letter = {
            "topic": topic,
            "reason": f"{self.role}_failed",
            "detail": detail[:2000],
            "payload_b64": base64.b64encode(payload.encode()).decode("ascii"),
            "received_ms": str(int(time.time() * 1000)),
            "worker": f"{self.role}:{self.section.consumer}",
            "stream": self.section.stream,
            "entry_id": entry_id,
            "key": key,
            "attempts": str(attempts),
        }
        # The letter first, then the acknowledgement: a crash between them letters the entry
        # twice, never not at all. (Not one transaction: in a cluster the dead-letter stream
        # and the partition's stream are in different slots.)
        self.client.xadd(self.section.deadletter_stream, letter, maxlen=100_000, approximate=True)
        pipe = self.client.pipeline(transaction=False)
        pipe.xack(self.section.stream, self.section.group, entry_id)
        pipe.hdel(self.failures_key, entry_id)
        pipe.execute()
        self.log.error(
            "entry dead-lettered", entry_id=entry_id, **self.log_fields(fields), error=detail
        )
        self.counted("deadlettered", 1)


class GroupBacklog(Collector):
    """A consumer group's pending entries and lag, read from Redis when scraped (gauges
    `<prefix>_group_pending` and `<prefix>_group_lag`; none while Redis or the group is
    away). With `partitions` (a callable naming them), one of each per partition, labelled
    `partition`."""

    def __init__(
        self,
        client: redis.Redis,
        section: GroupSection,
        prefix: str,
        partitions: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        self.client = client
        self.section = section
        self.prefix = prefix
        self.partitions = partitions

    def collect(self) -> Iterator[Metric]:
        labels = ["partition"] if self.partitions else []
        pending = GaugeMetricFamily(
            f"{self.prefix}_group_pending",
            "Entries read by the group's workers and not yet acknowledged.",
            labels=labels,
        )
        lag = GaugeMetricFamily(
            f"{self.prefix}_group_lag",
            f"Entries on {self.section.stream} the group has not read yet.",
            labels=labels,
        )
        partitions: Iterable[str | None] = self.partitions() if self.partitions else [None]
        for partition in partitions:
            group = self._group(in_partition(self.section.stream, partition))
            if group is None:
                continue
            values = [partition] if partition is not None else []
            pending.add_metric(values, int(group["pending"]))
            if group.get("lag") is not None:
                lag.add_metric(values, int(group["lag"]))
        if pending.samples:
            yield pending
        if lag.samples:
            yield lag

    def _group(self, stream: str) -> dict[str, Any] | None:
        try:
            groups = self.client.xinfo_groups(stream)
        except redis.RedisError:  # no stream yet, or Redis away: no backlog figures
            return None
        return next((g for g in groups if g["name"] == self.section.group), None)
