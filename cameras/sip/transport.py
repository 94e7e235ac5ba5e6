"""SIP over UDP and TCP with asyncio: datagrams and Content-Length-framed streams in, bytes
out to a peer (over the connection it came in on, for TCP)."""

import asyncio
import socket
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import structlog

from cameras.sip.message import Peer, SipError, frame_length

log = structlog.get_logger("shouwang.cameras.sip")

Receiver = Callable[[bytes, Peer], Coroutine[Any, Any, None]]
Closed = Callable[[Peer], Awaitable[None]]


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: "SipTransport") -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if data.strip():  # CRLF keep-alives (RFC 5626) carry nothing
            self.owner.spawn(data, Peer("UDP", addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.warning("sip.udp_error", error=str(exc))


class SipTransport:
    """Listens on UDP and/or TCP; hands each message to `receive`, closes to `closed`."""

    def __init__(self, receive: Receiver, closed: Closed) -> None:
        self.receive = receive
        self.closed = closed
        self.udp: asyncio.DatagramTransport | None = None
        self.tcp: asyncio.Server | None = None
        self.streams: dict[tuple[str, int], asyncio.StreamWriter] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self, host: str, port: int, transports: list[str]) -> None:
        """Bind (UDP and TCP share the port: the UDP one, when `port` is 0)."""
        loop = asyncio.get_running_loop()
        if "udp" in transports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            self.udp, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=sock)
        if "tcp" in transports:
            self.tcp = await asyncio.start_server(self._connection, host, port, reuse_port=True)
            port = self.tcp.sockets[0].getsockname()[1]
        self.port = port

    async def stop(self) -> None:
        """Close the sockets and every connection."""
        if self.udp is not None:
            self.udp.close()
        if self.tcp is not None:
            self.tcp.close()
        for writer in list(self.streams.values()):
            writer.close()
        for task in list(self.tasks):
            task.cancel()

    def spawn(self, data: bytes, peer: Peer) -> None:
        """Handle a message in its own task (a slow broker never blocks the socket)."""
        task = asyncio.get_running_loop().create_task(self.receive(data, peer))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def send(self, peer: Peer, data: bytes) -> bool:
        """Send to `peer`; False when there is no way to (a TCP peer that went away)."""
        if peer.transport == "UDP":
            if self.udp is None:
                return False
            self.udp.sendto(data, (peer.host, peer.port))
            return True
        writer = self.streams.get((peer.host, peer.port))
        if writer is None or writer.is_closing():
            return False
        writer.write(data)
        return True

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        peer = Peer("TCP", host, port)
        self.streams[(host, port)] = writer
        buffer = b""
        try:
            while chunk := await reader.read(65536):
                buffer = (buffer + chunk).lstrip(b"\r\n")
                while buffer and (length := frame_length(buffer)) is not None:
                    self.spawn(buffer[:length], peer)
                    buffer = buffer[length:].lstrip(b"\r\n")
        except SipError as exc:
            log.warning("sip.tcp_unframeable", peer=f"{host}:{port}", error=str(exc))
        except ConnectionError:
            pass
        finally:
            self.streams.pop((host, port), None)
            writer.close()
            await self.closed(peer)
