"""A small time-limited cache for what changes rarely but is asked for on every event."""

import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values kept `ttl_s` seconds after loading (0: never kept); cleared when it grows large."""

    def __init__(
        self, ttl_s: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 100_000
    ) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K, load: Callable[[], V]) -> V:
        """The cached value of `key`, or `load()` (then cached)."""
        return self.get_many([key], lambda _missing: {key: load()})[key]

    def get_many(self, keys: Iterable[K], load: Callable[[list[K]], Mapping[K, V]]) -> dict[K, V]:
        """The values of `keys`: cached ones, and the others from one `load(missing)` call
        (then cached), which must return a value for every key it is given."""
        now = self.clock()
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in dict.fromkeys(keys):
            cached = self._entries.get(key)
            if cached is not None and now - cached[0] < self.ttl_s:
                found[key] = cached[1]
            else:
                missing.append(key)
        if not missing:
            return found
        loaded = load(missing)
        if self.ttl_s > 0 and len(self._entries) + len(missing) > self.max_entries:
            self._entries.clear()
        for key in missing:
            found[key] = loaded[key]
            if self.ttl_s > 0:
                self._entries[key] = (now, loaded[key])
        return found
