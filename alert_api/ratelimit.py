"""Sign-in rate limiting: failed attempts counted per login name and per client address in
Redis (shared by every API process), refused for the rest of the window once over the limit."""

import hashlib
from dataclasses import dataclass

import redis

# KEYS: counters; ARGV[1]: window s. Adds one failure to each, starting its window if new.
RECORD_FAILURE = """
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Sign-in refused for now: try again after `retry_after_s`."""

    retry_after_s: int


class LoginLimiter:
    """Counts failed sign-ins and refuses attempts over `max_per_login` or `max_per_address`."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        max_per_login: int,
        max_per_address: int,
        window_s: int,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.max_per_login = max_per_login
        self.max_per_address = max_per_address
        self.window_s = window_s
        self._record = client.register_script(RECORD_FAILURE)

    def _keys(self, login: str, address: str) -> tuple[str, str]:
        name = hashlib.sha256(login.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
        return f"{self.prefix}:login:name:{name}", f"{self.prefix}:login:addr:{address}"

    def check(self, login: str, address: str) -> Refusal | None:
        """A refusal if either counter is over its limit, else None."""
        keys = self._keys(login, address)
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.ttl(key)
        by_login, login_ttl, by_address, address_ttl = pipe.execute()
        for count, ttl, limit in (
            (by_login, login_ttl, self.max_per_login),
            (by_address, address_ttl, self.max_per_address),
        ):
            if count is not None and int(count) >= limit:
                return Refusal(max(int(ttl), 1))
        return None

    def failed(self, login: str, address: str) -> None:
        """Count a failed attempt."""
        self._record(keys=list(self._keys(login, address)), args=[self.window_s])

    def succeeded(self, login: str) -> None:
        """Forget the login name's failures (the address keeps its count)."""
        self.client.delete(self._keys(login, "")[0])
