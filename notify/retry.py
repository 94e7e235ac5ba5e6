"""Exponential back-off between attempts of a delivery."""

import random
from collections.abc import Callable

from notify.settings import RetrySection


class Backoff:
    """Waits before retries: `initial × multiplier^(n-1)` after the n-th failed attempt, at most
    `max_delay_s`, spread by `jitter`; no retry after `max_attempts`."""

    def __init__(
        self, section: RetrySection, rng: Callable[[float, float], float] = random.uniform
    ) -> None:
        self.section = section
        self.rng = rng

    def delay_s(self, attempts: int, retry_after_s: float | None = None) -> float | None:
        """Seconds to wait after `attempts` failed attempts (None: give up); at least what the
        target asked for with Retry-After."""
        section = self.section
        if attempts >= section.max_attempts:
            return None
        base = min(
            section.initial_delay_s * section.multiplier ** (attempts - 1), section.max_delay_s
        )
        spread = base * section.jitter
        delay = base + self.rng(-spread, spread) if spread else base
        return max(delay, min(retry_after_s or 0.0, section.max_delay_s))
