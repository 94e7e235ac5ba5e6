"""Running a notifier in the test's thread until it has nothing left to do right now."""

import time

from notify.worker import Notifier


def settle(notifier: Notifier, timeout_s: float = 15) -> None:
    """Poll until a round moves nothing and no attempt or receipt round is in flight: every job
    read is planned, every due delivery sent and recorded (deliveries due later stay pending),
    every receipt the vendors gave recorded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        moved = notifier.poll(block_ms=0)
        if not moved and not notifier.sender.in_flight and not notifier.receipts.in_flight:
            return
        notifier.sender.wait(0.05)
    raise AssertionError("the notifier did not settle in time")
