"""Token bucket pacing, on an injected clock (no wall-clock timing)."""

import pytest

from edge.publish import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def drain(bucket: TokenBucket, clock: FakeClock, count: int) -> float:
    """Send `count` messages the way the sender does; return the simulated seconds taken."""
    start = clock.now
    sent = 0
    while sent < count:
        if bucket.available() >= 1:
            bucket.take()
            sent += 1
        else:
            wait = bucket.wait_time()
            assert wait > 0
            clock.advance(wait)
    return clock.now - start


@pytest.mark.parametrize(("rate", "burst", "count"), [(200, 20, 1000), (10, 1, 50), (50, 5, 5)])
def test_replay_of_n_messages_takes_at_least_n_over_rate(rate: int, burst: int, count: int) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock=clock)
    elapsed = drain(bucket, clock, count)
    expected = max(0, count - burst) / rate
    assert elapsed == pytest.approx(expected, abs=1e-6)


def test_burst_is_the_most_sent_at_once() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 20, clock=clock)
    clock.advance(3600)  # an idle hour does not bank more than one burst
    assert bucket.available() == 20


def test_reset_refills_for_a_new_session() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 10, clock=clock)
    for _ in range(10):
        bucket.take()
    assert bucket.available() == 0
    assert bucket.wait_time() == pytest.approx(0.01)
    bucket.reset()
    assert bucket.available() == 10
    bucket.reset(0)
    assert bucket.available() == 0


def test_clock_going_backwards_adds_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 5, clock=clock)
    for _ in range(5):
        bucket.take()
    clock.advance(-10)
    assert bucket.available() == 0


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (10, 0)])
def test_invalid_parameters(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)
