"""The demo's services as child processes: the same `shouwang` commands an operator runs."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ServiceProcess:
    """One `shouwang …` child process, logging to a file in the demo folder."""

    name: str
    args: list[str]
    log_file: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the process in its own process group (so it and its children stop together)."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shouwang", *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )

    def check(self) -> None:
        """Raise with the log's end if the process has exited."""
        if self.process is not None and self.process.poll() is not None:
            tail = self.log_file.read_text(errors="replace")[-2500:]
            raise RuntimeError(
                f"{self.name} exited with code {self.process.returncode}; its log "
                f"({self.log_file}) ends with:\n{tail}"
            )

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (each service finishes what it holds), then SIGKILL after `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def wait_until(
    condition: Callable[[], bool], services: list[ServiceProcess], timeout: float
) -> None:
    """Wait for `condition`, failing early (with its log) if a service dies meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        for service in services:
            service.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the demo's services did not come up within {timeout:.0f} s")
        time.sleep(0.2)


def run_commands(commands: list[list[str]], *, stdin: str, env: dict[str, str]) -> None:
    """Run `shouwang …` commands side by side, each reading `stdin`, with `env` added to the
    environment (and no $SHOUWANG_CONFIG); raise with a command's output if it fails."""
    environment = {k: v for k, v in os.environ.items() if k != "SHOUWANG_CONFIG"} | env
    running = [
        (
            args,
            subprocess.Popen(
                [sys.executable, "-m", "shouwang", *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=environment,
            ),
        )
        for args in commands
    ]
    failed = []
    for args, process in running:
        output, _ = process.communicate(stdin, timeout=120)
        if process.returncode != 0:
            failed.append(f"`shouwang {' '.join(args)}` exited with {process.returncode}: {output}")
    if failed:
        raise RuntimeError("\n".join(failed))
