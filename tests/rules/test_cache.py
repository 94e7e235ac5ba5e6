"""The lookups cache: values kept for their time, the missing ones loaded together."""

from rules.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_missing_values_are_loaded_in_one_call_and_kept_for_their_time() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(30, clock)
    calls: list[list[str]] = []

    def load(keys: list[str]) -> dict[str, int]:
        calls.append(keys)
        return {key: len(key) for key in keys}

    assert cache.get_many(["a", "bb", "a"], load) == {"a": 1, "bb": 2}
    assert cache.get_many(["bb", "ccc"], load) == {"bb": 2, "ccc": 3}
    assert cache.get("a", lambda: 99) == 1
    clock.now = 30
    assert cache.get_many(["a", "ccc"], load) == {"a": 1, "ccc": 3}
    assert calls == [["a", "bb"], ["ccc"], ["a", "ccc"]]
    assert cache.get_many([], load) == {} and len(calls) == 3


def test_nothing_is_kept_without_a_time_and_a_full_cache_starts_over() -> None:
    uncached: TtlCache[int, int] = TtlCache(0)
    loads = 0

    def load(keys: list[int]) -> dict[int, int]:
        nonlocal loads
        loads += 1
        return {key: -key for key in keys}

    uncached.get_many([1], load)
    uncached.get_many([1], load)
    assert loads == 2
    small: TtlCache[int, int] = TtlCache(30, max_entries=2)
    small.get_many([1, 2], load)
    small.get_many([3], load)
    assert small.get_many([1, 3], load) == {1: -1, 3: -3} and loads == 5
