"""Episode ends decided before the alert they end exists, kept in Redis for a while.

An `end` can be decided before its episode's start or update raises (or joins) the alert: two
ingest workers store a camera's events out of order, or two rules workers decide the start and
the end at the same time in different batches. In order, the end would be recorded on the
alert (`rules.alerting.end_episode`); out of order it finds no alert yet. So an end whose
episode some rule may still alert on is *remembered* here, and whoever later raises or joins
an alert of that episode decides the remembered end again on it, once committed.

Which ends are remembered: those whose kind and condition type some enabled rule matches, and
whose source watches someone that rule's watch-list condition accepts (a start of the episode
could then raise an alert). Most ends (no rule, an unwatched camera) cost nothing. The others
cost a Redis write (one pipeline per batch) and no database write: the entry's fields are kept
under `ends:<episode>` and expire after `rules.end_wait_s`, so ends whose start never comes (or
that found their alert in order) are pruned by Redis itself.

Why two workers deciding the start and the end at once cannot both miss each other. Under
READ COMMITTED a transaction sees only what was committed before each of its statements. Had
each side written its own record and then checked for the other's inside its transaction,
both checks could run before either commit, and both would find nothing. So each side checks
only once its own write is visible to the other:

- the end is remembered in Redis (visible at once) *before* its transaction looks for the
  episode's alerts, each statement of which sees every commit made before it began;
- the start looks for remembered ends only *after* its transaction committed.

If the start's look misses the end, it ran before the end was remembered, so the start's
commit preceded the end's search, which finds the alert. On SQLite, writers take the database
lock for their whole transaction (`BEGIN IMMEDIATE`), so the two are serialised and the same
holds. Both may find each other; the end is then decided twice, which stays idempotent: deciding
an end locks the episode's alerts first and only then asks which rules recorded the entry
(`alert_events` is unique per entry and rule), so the second waits for the first and records
nothing. The start's entries are acknowledged (a held start's timer released) only after that
look, so a worker dying in between leaves them to be decided, and the look made, again.
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
