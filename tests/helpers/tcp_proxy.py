"""A TCP proxy between a client and a server that a test can cut, to play a failing link.

    with running_proxy(broker.port) as link:
        publisher = EdgePublisher(..., mqtt_settings=MqttSettings(port=link.port))
        link.cut()        # bytes in flight vanish, connections hang, new ones fail
        link.restore()    # new connections go through again

`cut()` behaves like a rural uplink going down: nothing is closed, bytes sent on open
connections simply vanish (so the client only notices through its keepalive), and new
connections are refused until `restore()`.
"""

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TcpProxy:
    """Forwards connections on 127.0.0.1:`port` to `target_host`:`target_port`."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._up = threading.Event()
        self._up.set()
        self._closed = threading.Event()
        self.connections = 0
        """Connections forwarded so far (those refused while cut are not counted)."""
        self.refused = 0
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    @property
    def up(self) -> bool:
        return self._up.is_set()

    def start(self) -> "TcpProxy":
        self._thread.start()
        return self

    def cut(self) -> None:
        """From now on bytes on open connections vanish and new connections are refused."""
        self._up.clear()

    def restore(self) -> None:
        """Drop the connections that hung during the cut and let new ones through."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            _close(*pair)
        self._up.set()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            _close(*pair)
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                self.refused += 1
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
                self.connections += 1
            threading.Thread(
                target=self._pump, args=(client, server), name="tcp-proxy-pump", daemon=True
            ).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        try:
            while not self._closed.is_set():
                readable, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if self._up.is_set():
                        peers[sock].sendall(data)
                    # else: the link is down, the bytes vanish (the sender does not know)
        except OSError:
            return
        finally:
            _close(client, server)
            with self._lock:
                if (client, server) in self._pairs:
                    self._pairs.remove((client, server))


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a refused connection looks to the client."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            sock.close()


@contextmanager
def running_proxy(target_port: int, target_host: str = "127.0.0.1") -> Iterator[TcpProxy]:
    """A started proxy to `target_host`:`target_port` for the duration of the block."""
    proxy = TcpProxy(target_port, target_host).start()
    try:
        yield proxy
    finally:
        proxy.close()
