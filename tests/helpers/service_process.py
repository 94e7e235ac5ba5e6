"""A `shouwang` service (ingest, rules, notifier…) in a child process, as it runs in
production, so a test can SIGKILL it and start it again.

    worker = ServiceProcess("rules-a", ["rules", "run", "--config", str(config)], log_dir)
    worker.start()
    worker.kill()      # SIGKILL: no clean-up runs
    worker.start()     # the same command again; the log file continues
    worker.terminate() # SIGTERM and wait for a clean exit
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]


def service_environment() -> dict[str, str]:
    """This environment without SHOUWANG_* overrides, so only the test's config file counts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUWANG_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


class ServiceProcess:
    """`python -m shouwang <args> --json-logs`, logging to `<log_dir>/<name>.log`."""

    def __init__(self, name: str, args: list[str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._log: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> "ServiceProcess":
        """Start the command (again); its output goes on at the end of the log file."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._close_log()
        self._log = self.log_path.open("ab")
        self.starts += 1
        self._log.write(f"--- start {self.starts} of {self.name}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shouwang", *self.args, "--json-logs"],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=service_environment(),
        )
        return self

    def kill(self) -> None:
        """SIGKILL and reap: the process gets no chance to finish anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self._close_log()

    def terminate(self, timeout: float = 60.0) -> int | None:
        """SIGTERM and wait for the exit; SIGKILL if it takes longer than `timeout`.

        Returns the exit code (None if it was not running)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._close_log()
        return self.process.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 60.0, *, after: int = 0) -> bool:
        """Poll until `text` appears in the log (past character `after`), or the process
        exits, or `timeout` passes; True if it appeared."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text()[after:]:
                return True
            if not self.running:
                return text in self.log_text()[after:]
            time.sleep(0.05)
        return False

    def check_alive(self) -> None:
        """Raise with the log's tail if the process has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with {self.process.returncode}:\n{self.log_text()[-4000:]}"
            )

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
