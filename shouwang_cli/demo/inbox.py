"""The demo's stand-in for phones: a local webhook that the notifier delivers to (through an
apprise `json://` URL per recipient), so the terminal shows who was told what, and when."""

import json
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Delivered:
    """One notification as the recipient's phone would show it."""

    time: str
    recipient: str
    title: str
    body: str


class Inbox:
    """Collects what the notifier sends to `url(recipient)`."""

    def __init__(self) -> None:
        self.messages: deque[Delivered] = deque(maxlen=50)
        self.zone: ZoneInfo | None = None
        """The time zone of the delivery times (the machine's until set)."""
        self.labels: dict[str, str] = {}
        self.count = 0
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    payload = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    payload = {}
                inbox.add(self.path.strip("/"), payload)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, key: str, label: str) -> str:
        """The apprise URL that delivers to this inbox as recipient `key`, shown as `label`."""
        self.labels[key] = label
        return f"json://127.0.0.1:{self.port}/{key}"

    def add(self, recipient: str, payload: dict[str, str]) -> None:
        """Record one delivery."""
        self.count += 1
        self.messages.appendleft(
            Delivered(
                datetime.now(self.zone).strftime("%H:%M:%S"),
                self.labels.get(recipient, recipient),
                str(payload.get("title", "")),
                str(payload.get("message", "")),
            )
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
