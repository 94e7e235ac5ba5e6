"""Episode ends decided before the alert they end exists, kept in Redis for a while.

An `end` can be decided before its episode's start or update raises (or joins) the alert: two
ingest workers store a camera's events out of order, or two rules workers decide the start and
the end at the same time in different batches. So an end whose episode some rule may still
alert on is remembered here (`ends:<episode>`, expiring after `rules.end_wait_s`) before its
search for alerts, and whoever later raises or joins an alert of that episode decides the
remembered end on it, once committed. Which ends are remembered, and why two workers cannot
both miss each other: docs/architecture.md, "Why episode ends may come first".
"""

import json
from collections.abc import Collection, Iterable

import redis

from rules.signals import Signal, read_entry
from shouwang.redis_keys import rules_key

KEPT_FIELDS = ("kind", "payload", "received_ms")
"""What `read_entry` needs of an event or edge status entry."""


class EarlyEnds:
    """Ends of episodes remembered per episode key, each for `keep_s` seconds."""

    def __init__(self, client: redis.Redis, prefix: str, keep_s: float) -> None:
        self.client = client
        self.prefix = prefix
        self.keep_ms = max(1, int(keep_s * 1000))

    def _key(self, episode_key: str) -> str:
        return rules_key(f"ends:{episode_key}", self.prefix)

    def remember(self, ends: Iterable[tuple[Signal, dict[str, str]]]) -> None:
        """Remember these ends (signal and entry fields), in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for signal, fields in ends:
            kept = {name: fields[name] for name in KEPT_FIELDS if name in fields}
            data = json.dumps({"entry_id": signal.entry_id, "fields": kept}, ensure_ascii=False)
            pipe.set(self._key(signal.episode_key), data, px=self.keep_ms)
        if len(pipe):
            pipe.execute()

    def recall(self, episode_keys: Collection[str]) -> list[Signal]:
        """The remembered ends of these episodes (one round trip; none asked, none made)."""
        if not episode_keys:
            return []
        ordered = sorted(episode_keys)
        found: list[Signal] = []
        for raw in self.client.mget([self._key(key) for key in ordered]):
            if raw is not None:
                data = json.loads(raw)
                signal = read_entry(data["entry_id"], data["fields"])
                if isinstance(signal, Signal):
                    found.append(signal)
        return found
