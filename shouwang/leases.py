"""Which worker of a consumer group works which partitions: a lease table in Redis.

Every worker renews its lease every few seconds, passing the partitions there are; one Lua
script (atomic, on Redis's clock) keeps the live workers, frees the partitions of workers
whose lease ran out, and gives each worker its fair share — at most ⌈partitions / workers⌉ —
shedding extras when a worker joins. Correctness never rests on one owner per partition:
the workers of a partition share its consumer group (each entry goes to one of them) and
timers are leased on their own, so two owners for a moment cost nothing but work. See
docs/operations.md, "City scale".
"""

from collections.abc import Sequence

import redis

from shouwang.partitions import in_partition

# KEYS[1] owners (hash partition → worker), KEYS[2] workers (sorted set, score: lease end ms).
# ARGV: worker, ttl ms, then the partitions. Returns the worker's partitions.
RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local worker, ttl = ARGV[1], tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, worker)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local share = math.ceil((#ARGV - 2) / redis.call('ZCARD', KEYS[2]))
local mine, free = {}, {}
for i = 3, #ARGV do
  local owner = redis.call('HGET', KEYS[1], ARGV[i])
  if owner == worker then
    table.insert(mine, ARGV[i])
  elseif not owner or not redis.call('ZSCORE', KEYS[2], owner) then
    table.insert(free, ARGV[i])
  end
end
while #mine > share do
  redis.call('HDEL', KEYS[1], table.remove(mine))
end
for _, partition in ipairs(free) do
  if #mine >= share then break end
  redis.call('HSET', KEYS[1], partition, worker)
  table.insert(mine, partition)
end
return mine
"""

# KEYS as RENEW; ARGV: worker. Gives back the worker's partitions and leaves.
RELEASE = """
local owned = redis.call('HGETALL', KEYS[1])
for i = 1, #owned, 2 do
  if owned[i + 1] == ARGV[1] then redis.call('HDEL', KEYS[1], owned[i]) end
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


class PartitionLeases:
    """The lease table of one consumer group, as seen by one worker."""

    def __init__(self, client: redis.Redis, prefix: str, group: str, worker: str, ttl_ms: int):
        table = in_partition(f"{prefix}:leases", group)  # both keys in one slot
        self.keys = [f"{table}:owners", f"{table}:workers"]
        self.worker = worker
        self.ttl_ms = ttl_ms
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)
        self.client = client

    def renew(self, partitions: Sequence[str]) -> list[str]:
        """Stay alive and hold this worker's share of `partitions` (sorted, so every worker
        sees them in one order); returns the partitions it holds now."""
        held = self._renew(keys=self.keys, args=[self.worker, self.ttl_ms, *sorted(partitions)])
        return sorted(p.decode() if isinstance(p, bytes) else str(p) for p in held)

    def release(self) -> None:
        """Give every partition back and leave the table (a clean stop)."""
        self._release(keys=self.keys, args=[self.worker])

    def owners(self) -> dict[str, str]:
        """Who holds which partition."""
        raw = self.client.hgetall(self.keys[0])
        return {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()
        }
