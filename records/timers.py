"""Timers kept in Redis (a sorted set scored by due time in ms), so restarts lose none.

Several workers may poll the same set: claiming a due timer pushes it a lease into the future,
so a worker that dies while handling it hands it to another once the lease runs out.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from shouwang.redis_keys import RULES_PREFIX, rules_key

# KEYS[1] the set; ARGV: now ms, lease ms, limit. Returns member, due, member, due, …
CLAIM_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
local lease_until = tonumber(ARGV[1]) + tonumber(ARGV[2])
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[1], 'XX', lease_until, due[i])
end
return due
"""

# KEYS[1] the set; ARGV: the claimed score, then member, due (or "" to cancel), … Sets each
# member only while it still has the claimed score (nobody moved it since).
SETTLE = """
local done = 0
for i = 2, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[1]) then
    if ARGV[i + 1] == '' then
      redis.call('ZREM', KEYS[1], ARGV[i])
    else
      redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
    end
    done = done + 1
  end
end
return done
"""


class TimerSet:
    """Named timers in one sorted set."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client = client
        self.key = key
        self._claim = client.register_script(CLAIM_DUE)
        self._settle = client.register_script(SETTLE)

    def schedule(self, member: str, due_ms: int, *, keep_existing: bool = False) -> None:
        """Set `member` to fire at `due_ms`; with `keep_existing`, an existing timer stays."""
        if keep_existing:
            self.client.zadd(self.key, {member: due_ms}, nx=True)
        else:
            self.client.zadd(self.key, {member: due_ms})

    def set_many(self, due_ms: Mapping[str, int | None]) -> None:
        """Set several timers to fire when given, or cancel those given None, in one round trip."""
        if not due_ms:
            return
        pipe = self.client.pipeline(transaction=False)
        for member, due in due_ms.items():
            if due is None:
                pipe.zrem(self.key, member)
            else:
                pipe.zadd(self.key, {member: due})
        pipe.execute()

    def settle(self, claimed_ms: int, due_ms: Mapping[str, int | None]) -> None:
        """Reschedule (or cancel, given None) timers claimed with lease end `claimed_ms`, each
        only if nobody set it since the claim (a timer moved meanwhile keeps its new time)."""
        if not due_ms:
            return
        args: list[str | int] = [claimed_ms]
        for member, due in due_ms.items():
            args += [member, "" if due is None else due]
        self._settle(keys=[self.key], args=args)

    def cancel(self, member: str) -> bool:
        """Remove a timer; whether it existed."""
        return bool(self.client.zrem(self.key, member))

    def due_ms(self, member: str) -> int | None:
        """When `member` fires (or its lease ends), if scheduled."""
        score = self.client.zscore(self.key, member)
        return None if score is None else int(score)

    def claim_due(self, now_ms: int, lease_ms: int, limit: int = 100) -> list[tuple[str, int]]:
        """Timers due by `now_ms` as (member, due ms), leased to the caller for `lease_ms`.

        The caller reschedules or cancels each; one it drops fires again after the lease.
        """
        flat = self._claim(keys=[self.key], args=[now_ms, lease_ms, limit])
        members = [m.decode() if isinstance(m, bytes) else str(m) for m in flat[0::2]]
        return [(member, int(float(due))) for member, due in zip(members, flat[1::2], strict=True)]


@dataclass(frozen=True, slots=True)
class TimerOp:
    """A change to one timer that an alert action asks for, written to the outbox with the
    action and applied once it has committed (`records.outbox`): `due_ms` makes the timer due
    then unless it is due earlier (a poke; an absent timer is set), None cancels it. Applying
    it again changes nothing more, so the outbox may publish it twice."""

    key: str
    """The timer set's full key, partition included (`escalations_key`, `lifecycle_key`)."""
    member: str
    due_ms: int | None

    def queue(self, pipe: Any) -> None:
        """Queue the change on a Redis pipeline (of a single Redis or a cluster)."""
        if self.due_ms is None:
            pipe.zrem(self.key, self.member)
        else:
            pipe.zadd(self.key, {self.member: self.due_ms}, lt=True)

    def to_fields(self) -> dict[str, str]:
        """Outbox fields (`due_ms` empty: cancel)."""
        due = "" if self.due_ms is None else str(self.due_ms)
        return {"key": self.key, "member": self.member, "due_ms": due}

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> "TimerOp":
        """Read outbox fields."""
        due = fields["due_ms"]
        return cls(key=fields["key"], member=fields["member"], due_ms=int(due) if due else None)


def escalations_key(prefix: str = RULES_PREFIX) -> str:
    """The key of the escalation timers under a rules prefix (a partition's, or the plain)."""
    return rules_key("escalations", prefix)


def lifecycle_key(prefix: str = RULES_PREFIX) -> str:
    """The key of the lifecycle timers under a rules prefix (a partition's, or the plain)."""
    return rules_key("lifecycle", prefix)


def escalation_timers(client: redis.Redis, prefix: str = RULES_PREFIX) -> TimerSet:
    """The rules engine's escalation timers: member = alert id, due = its next step."""
    return TimerSet(client, escalations_key(prefix))


def lifecycle_timers(client: redis.Redis, prefix: str = RULES_PREFIX) -> TimerSet:
    """The rules engine's response timers: member = alert id, due = when the engine next looks
    at the alert after it was raised (notices of family responses…); an alert action makes
    it due at once (a `TimerOp` in the action's outbox)."""
    return TimerSet(client, lifecycle_key(prefix))
