"""Token bucket that paces how fast queued messages are sent to the broker."""

import time
from collections.abc import Callable

_EPSILON = 1e-9  # float rounding must not leave a token at 0.999999… forever


class TokenBucket:
    """`rate` tokens per second, holding at most `burst`; one token per message sent.

    Not thread-safe: one sender thread owns it. `clock` is injectable for tests.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = now

    def reset(self, tokens: float | None = None) -> None:
        """Refill to `tokens` (default: a full burst), e.g. when a new connection starts."""
        self._tokens = float(self.burst if tokens is None else min(tokens, self.burst))
        self._updated = self._clock()

    def available(self) -> int:
        """Whole tokens that can be taken now."""
        self._refill()
        return int(self._tokens + _EPSILON)

    def take(self, n: int = 1) -> None:
        """Spend `n` tokens; the caller has checked `available()` or waited `wait_time(n)`."""
        self._refill()
        self._tokens -= n

    def wait_time(self, n: int = 1) -> float:
        """Seconds until `n` tokens (n ≤ burst) are available; 0 if they are now."""
        self._refill()
        missing = min(n, self.burst) - self._tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate
