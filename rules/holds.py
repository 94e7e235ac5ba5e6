"""Conditions that must last before they alert (`hold_s`): a camera or edge offline for N
minutes. The start is held in a Redis timer; the episode's end cancels it; if the timer comes
due first, the alert is raised then. Redis keeps the timers across restarts."""

import json
from dataclasses import dataclass

import redis

from records.timers import TimerSet
from rules.signals import Signal
from shouwang.redis_keys import rules_key

ENDED_KEEP_MS = 7 * 24 * 3600 * 1000
"""How long the end of an episode is remembered (for starts that arrive after their end)."""

# KEYS[1] the sorted set of ended episodes (score: end ms); ARGV: episode, end ms, keep ms.
# Keeps the latest end of each episode and forgets ends older than `keep`.
RECORD_END = """
local current = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > current then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
return 1
"""


@dataclass(frozen=True, slots=True)
class DueHold:
    """A held condition whose time has come."""

    member: str
    rule_id: str
    entry_id: str
    fields: dict[str, str]
    due_ms: int


def _ms(signal: Signal) -> int:
    return int(signal.observed_at.timestamp() * 1000)


class Holds:
    """Held starts per (rule, episode), with the entry that started them."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.timers = TimerSet(client, rules_key("holds", prefix))
        self.data_key = rules_key("holds:data", prefix)
        self.ended_key = rules_key("holds:ended", prefix)
        self._record_end = client.register_script(RECORD_END)

    def ended_after(self, signal: Signal) -> bool:
        """Whether the signal's episode has an end later than the signal itself."""
        ended = self.client.zscore(self.ended_key, signal.episode_key)
        return ended is not None and int(ended) >= _ms(signal)

    def hold(self, rule_id: str, signal: Signal, fields: dict[str, str], hold_s: float) -> bool:
        """Hold `signal` for `rule_id` until `hold_s` after it was observed; whether it is held
        (an episode already held keeps its first start; one already ended is not held)."""
        if self.ended_after(signal):
            return False
        member = f"{rule_id}|{signal.episode_key}"
        data = json.dumps({"entry_id": signal.entry_id, "fields": fields}, ensure_ascii=False)
        self.client.hsetnx(self.data_key, member, data)
        self.timers.schedule(member, _ms(signal) + int(hold_s * 1000), keep_existing=True)
        return True

    def end(self, signal: Signal, rule_ids: list[str]) -> None:
        """The episode ended: cancel what `rule_ids` hold for it, and remember the end so a
        start that arrives late is not held."""
        self._record_end(
            keys=[self.ended_key], args=[signal.episode_key, _ms(signal), ENDED_KEEP_MS]
        )
        for rule_id in rule_ids:
            self.release(f"{rule_id}|{signal.episode_key}")

    def release(self, member: str) -> None:
        """Forget a held start."""
        self.timers.cancel(member)
        self.client.hdel(self.data_key, member)

    def claim_due(self, now_ms: int, lease_ms: int, limit: int = 100) -> list[DueHold]:
        """Held starts due by `now_ms`, leased to the caller (who releases each when done)."""
        due: list[DueHold] = []
        for member, due_ms in self.timers.claim_due(now_ms, lease_ms, limit):
            raw = self.client.hget(self.data_key, member)
            if raw is None:
                self.timers.cancel(member)
                continue
            data = json.loads(raw)
            rule_id = member.split("|", 1)[0]
            due.append(DueHold(member, rule_id, data["entry_id"], data["fields"], due_ms))
        return due
