"""Names of the Redis keys shared between services (ingest writes them; others read them)."""

from shouwang.partitions import in_partition

EVENTS_STREAM = "shouwang:events"
DEADLETTER_STREAM = "shouwang:deadletter"
EDGES_KEY = "shouwang:edges"
"""Sorted set: `<site>/<edge>` scored by last-seen time (ms)."""
WORKERS_KEY = "shouwang:ingest:workers"
"""Sorted set: ingest worker id scored by its last state write (ms)."""


def edge_key(site: str, edge: str) -> str:
    """Hash holding the latest status and heartbeat of one edge agent."""
    return f"shouwang:edge:{site}:{edge}"


def worker_key(worker_id: str) -> str:
    """Hash holding one ingest worker's counters, refreshed every few seconds."""
    return f"shouwang:ingest:worker:{worker_id}"


def subscription_key(worker_id: str) -> str:
    """String holding the topic filter an ingest worker's persistent session subscribed to."""
    return f"shouwang:ingest:subscription:{worker_id}"


def partitions_key(stream: str = EVENTS_STREAM) -> str:
    """Set of the partitions ingest has written to under the events stream `stream` (the
    rules workers lease these; `shouwang health` shows their streams)."""
    return f"{stream}:partitions"


def seen_key(idempotency_key: str, partition: str | None = None) -> str:
    """String remembering that a message with this idempotency key was stored (in the
    partition's hash slot, beside its stream)."""
    return f"{in_partition('shouwang:seen', partition)}:{idempotency_key}"


RULES_GROUP = "rules"
"""Consumer group of the rules workers on the events stream."""
ALERTS_STREAM = "shouwang:alerts"
"""Stream of alert changes (created, updated, transitions…): the live feed; entry ids resume it."""
NOTIFICATIONS_STREAM = "shouwang:notifications"
"""Stream of notification jobs, one per recipient, for the notification dispatcher."""
RULES_PREFIX = "shouwang:rules"
"""Prefix of the rules engine's own keys (timers, failure counts); see `rules_key`."""


def rules_key(name: str, prefix: str = RULES_PREFIX) -> str:
    """A key of the rules engine: `escalations`, `holds` and `silences` (sorted sets of timers
    due at their score, ms), `holds:data`, `silences:state` and `battery` (hashes),
    `holds:ended` (sorted set), `ends:<episode>`, `failures:<group>`. With partitions, the
    prefix is the partition's (`in_partition(prefix, partition)`: `shouwang:rules:{bijiang}`),
    so every key of a partition shares its hash slot."""
    return f"{prefix}:{name}"


NOTIFIER_GROUP = "notifier"
"""Consumer group of the notification dispatchers on the notifications stream."""
NOTIFIER_PREFIX = "shouwang:notify"
"""Prefix of the dispatcher's own keys: `<prefix>:failures:<group>` (hash of failure counts)."""
