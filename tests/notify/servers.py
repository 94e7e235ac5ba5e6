"""The external edge of the dispatcher, played locally: a Web Push service and a webhook
receiver for apprise (`json://127.0.0.1:<port>/…`). Each records what it received and answers
with scripted status codes."""

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the server saw it, and the status it answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpEdge:
    """A local HTTP server: POSTs to a path are answered with the next scripted status for
    that path (then `default`); `hooks` run before answering (to stall, or to kill a worker)."""

    port: int = 0
    default: int = 201
    scripts: dict[str, list[int]] = field(default_factory=dict)
    hooks: dict[str, Callable[[], int | None]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *statuses: int) -> None:
        """Answer the next requests to `path` with these statuses, in order."""
        self.scripts[path] = list(statuses)

    def to(self, path: str) -> list[Received]:
        """Requests received for `path`."""
        with self.lock:
            return [r for r in self.received if r.path == path]

    def accepted(self, path: str) -> list[Received]:
        """Requests to `path` answered with success."""
        return [r for r in self.to(path) if 200 <= r.status < 300]

    def _answer(self, path: str) -> int:
        hook = self.hooks.get(path)
        status = hook() if hook else None
        with self.lock:
            script = self.scripts.get(path)
            if status is None:
                status = script.pop(0) if script else self.default
        return status


@contextmanager
def http_edge(default: int = 201) -> Iterator[HttpEdge]:
    """Run an `HttpEdge` on a free port of 127.0.0.1 until the block ends."""
    edge = HttpEdge(default=default)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = edge._answer(self.path)
            with edge.lock:
                edge.received.append(Received(self.path, dict(self.headers), body, status))
            reply = b"{}" if status < 300 else b'{"error": "scripted failure"}'
            try:
                self.send_response(status)
                if status in (429, 503):
                    self.send_header("Retry-After", "30")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender is gone (a killed worker)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    edge.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield edge
    finally:
        server.shutdown()
        server.server_close()
