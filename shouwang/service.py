"""How a service process runs: until SIGINT/SIGTERM, in rounds that wait out outages, or as
several processes."""

import multiprocessing
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

FIRST_BACKOFF_S = 0.5
LONGEST_BACKOFF_S = 30.0


def run_until_signalled(
    run: Callable[[], object], stop: Callable[[], None], log: Any, **about: Any
) -> None:
    """Call `run` in this process; SIGINT or SIGTERM calls `stop`, which makes `run` return
    after the work in hand. `about` goes on the log line."""

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name, **about)
        stop()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    run()


def run_rounds(
    round_: Callable[[], object],
    stop: threading.Event,
    *,
    prepare: Callable[[], None],
    outage: tuple[type[Exception], ...],
    log: Any,
) -> None:
    """Call `round_` until `stop` is set. `prepare` runs first and again after each outage: an
    `outage` error is logged and waited out, 0.5 s doubling up to 30 s, reset by a round that
    completes."""
    backoff = FIRST_BACKOFF_S
    while not stop.is_set():
        try:
            prepare()
            while not stop.is_set():
                round_()
                backoff = FIRST_BACKOFF_S
        except outage as exc:
            log.warning("database or redis unavailable", error=str(exc), retry_in_s=backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, LONGEST_BACKOFF_S)


def run_in_processes(
    target: Callable[..., None], arguments: list[tuple[Any, ...]], name: str
) -> int:
    """Run `target(*args)` in a spawned process `<name>-<i>` per entry of `arguments` until
    all exit; a SIGTERM to this process is passed on to them (Ctrl-C reaches the whole process
    group already). Returns how many did not exit cleanly."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=target, args=args, name=f"{name}-{index}")
        for index, args in enumerate(arguments, start=1)
    ]
    for process in processes:
        process.start()

    def _forward(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGTERM:
            for process in processes:
                process.terminate()

    signal.signal(signal.SIGINT, _forward)
    signal.signal(signal.SIGTERM, _forward)
    for process in processes:
        process.join()
    return sum(1 for process in processes if process.exitcode != 0)
