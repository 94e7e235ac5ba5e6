"""SIP messages (RFC 3261 7): parsed from bytes, built as responses and requests, serialised.

Only what a GB/T 28181 platform needs: start line, headers (compact forms expanded), body,
and typed views of From/To, Via, CSeq, Contact, Expires and Authorization. It is lenient
where GB/T 28181 devices differ from RFC 3261 grammar (all-digit domains such as
`sip:34020000001320000001@3402000000`, which strict parsers refuse).
"""

import re
import secrets
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 64 * 1024
"""Larger SIP messages are refused (a MANSCDP catalog page is a few KiB)."""

PHRASES = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    423: "Interval Too Brief",
    500: "Server Internal Error",
}
COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "o": "Event",
}
_URI = re.compile(r"^(?P<scheme>sips?):(?:(?P<user>[^@;>]+)@)?(?P<host>[^:;>]+)(?::(?P<port>\d+))?")
_AUTH_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)\s*,?')


class SipError(ValueError):
    """A datagram or stream chunk that is not a usable SIP message."""


@dataclass(frozen=True, slots=True)
class Peer:
    """Where a message came from (and where its answers go): transport and address."""

    transport: str
    """`UDP` or `TCP`."""
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Uri:
    """A sip: URI's user, host and port."""

    user: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> "Uri":
        found = _URI.match(text.strip().strip("<>"))
        if found is None:
            raise SipError(f"not a sip URI: {text[:80]!r}")
        port = found.group("port")
        return cls(found.group("user") or "", found.group("host"), int(port) if port else None)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"sip:{user}{self.host}" + (f":{self.port}" if self.port else "")


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From, To or Contact value: the URI and the header parameters (tag, expires)."""

    uri: Uri
    params: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> "NameAddr":
        if "<" in text:
            inside, _, rest = text.partition("<")[2].partition(">")
        else:
            inside, _, rest = text.partition(";")
            rest = ";" + rest if rest else ""
        return cls(Uri.parse(inside), _params(rest))


@dataclass(frozen=True, slots=True)
class Via:
    """A Via value: transport, sent-by host and port, parameters (branch, rport)."""

    transport: str
    host: str
    port: int | None
    params: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> "Via":
        found = re.match(r"^\s*SIP\s*/\s*2\.0\s*/\s*(\w+)\s+([^:;\s]+)(?::(\d+))?(.*)$", text)
        if found is None:
            raise SipError(f"bad Via {text[:80]!r}")
        transport, host, port, rest = found.groups()
        return cls(transport.upper(), host, int(port) if port else None, _params(rest))


@dataclass(slots=True)
class Message:
    """A request (`method` set) or a response (`code` set), headers in arrival order."""

    method: str = ""
    uri: str = ""
    code: int = 0
    phrase: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return bool(self.method)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header `name` (case-insensitive)."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), default)

    def getlist(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise SipError(f"no {name} header")
        return value

    def add(self, name: str, value: str) -> None:
        self.headers.append((name, value))

    @property
    def call_id(self) -> str:
        return self.require("Call-ID")

    @property
    def cseq(self) -> tuple[int, str]:
        number, _, method = self.require("CSeq").strip().partition(" ")
        try:
            return int(number), method.strip().upper()
        except ValueError:
            raise SipError(f"bad CSeq {self.get('CSeq')!r}") from None

    @property
    def from_(self) -> NameAddr:
        return NameAddr.parse(self.require("From"))

    @property
    def to(self) -> NameAddr:
        return NameAddr.parse(self.require("To"))

    @property
    def via(self) -> list[Via]:
        return [Via.parse(part) for value in self.getlist("Via") for part in _split(value)]

    @property
    def contacts(self) -> list[NameAddr]:
        values = [part for value in self.getlist("Contact") for part in _split(value)]
        return [NameAddr.parse(value) for value in values if value.strip() != "*"]

    @property
    def expires(self) -> int | None:
        value = self.get("Expires")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise SipError(f"bad Expires {value!r}") from None

    def authorization(self) -> dict[str, str] | None:
        """The Digest parameters of the Authorization header, if any."""
        value = self.get("Authorization")
        if value is None:
            return None
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() != "digest":
            raise SipError(f"authorization scheme {scheme!r} is not Digest")
        return {k.lower(): v.strip('"') for k, v in _AUTH_PARAM.findall(rest)}

    def __bytes__(self) -> bytes:
        start = (
            f"{self.method} {self.uri} SIP/2.0"
            if self.method
            else (f"SIP/2.0 {self.code} {self.phrase}")
        )
        lines = [start, *(f"{name}: {value}" for name, value in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


def parse(data: bytes) -> Message:
    """One SIP message; raise SipError saying what is wrong with it."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipError(f"message is {len(data)} bytes, limit {MAX_MESSAGE_BYTES}")
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipError(f"headers are not UTF-8 (byte {exc.start})") from None
    lines = text.replace("\r\n", "\n").split("\n")
    message = _start_line(lines[0].strip())
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and message.headers:  # folded continuation
            name, value = message.headers[-1]
            message.headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise SipError(f"bad header line {line[:80]!r}")
        name = name.strip()
        message.add(COMPACT.get(name.lower(), name), value.strip())
    length = message.get("Content-Length")
    if length is not None:
        try:
            size = int(length)
        except ValueError:
            raise SipError(f"bad Content-Length {length!r}") from None
        if size > len(body):
            raise SipError(f"body is {len(body)} bytes, Content-Length says {size}")
        body = body[:size]
    message.body = body
    _ = (message.call_id, message.cseq)
    if message.is_request:
        if not message.via:
            raise SipError("request has no Via header")
        _ = (message.from_, message.to)
    return message


def _start_line(line: str) -> Message:
    parts = line.split(" ", 2)
    if len(parts) == 3 and parts[2] == "SIP/2.0" and parts[0].isalpha():
        return Message(method=parts[0].upper(), uri=parts[1])
    if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
        return Message(code=int(parts[1]), phrase=parts[2] if len(parts) > 2 else "")
    raise SipError(f"not a SIP start line: {line[:80]!r}")


def _params(text: str) -> dict[str, str]:
    params = {}
    for part in text.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip():
            params[name.strip().lower()] = value.strip().strip('"')
    return params


def _split(value: str) -> list[str]:
    """A header value holding several comma-separated entries (outside <> and quotes)."""
    parts, depth, quoted, current = [], 0, False, ""
    for char in value:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth -= 1
        if char == "," and not quoted and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [part.strip() for part in [*parts, current] if part.strip()]


def frame_length(buffer: bytes) -> int | None:
    """Length of the first complete message in a TCP stream buffer, None if incomplete.

    Raises SipError when the header has no usable Content-Length (required on streams)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_MESSAGE_BYTES:
            raise SipError("no end of headers within the message size limit")
        return None
    length = 0
    for line in buffer[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            try:
                length = int(value.strip())
            except ValueError:
                raise SipError(f"bad Content-Length {value.strip()!r}") from None
    total = end + 4 + length
    if total > MAX_MESSAGE_BYTES:
        raise SipError(f"message is {total} bytes, limit {MAX_MESSAGE_BYTES}")
    return total if len(buffer) >= total else None


def new_tag() -> str:
    """A random From/To tag."""
    return secrets.token_hex(6)


def response(
    request: Message,
    code: int,
    *,
    to_tag: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> Message:
    """A response to `request`: Via, From, Call-ID and CSeq copied, a tag added to To."""
    reply = Message(code=code, phrase=PHRASES.get(code, "Unknown"), body=body)
    for via in request.getlist("Via"):
        reply.add("Via", via)
    reply.add("From", request.require("From"))
    to = request.require("To")
    reply.add("To", to if "tag=" in to else f"{to};tag={to_tag}")
    reply.add("Call-ID", request.call_id)
    reply.add("CSeq", request.require("CSeq"))
    for name, value in (headers or {}).items():
        reply.add(name, value)
    if content_type:
        reply.add("Content-Type", content_type)
    reply.add("Content-Length", str(len(body)))
    return reply


def request(
    method: str,
    target: Uri,
    *,
    local: Peer,
    from_uri: Uri,
    to_uri: Uri,
    call_id: str,
    cseq: int,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> Message:
    """A new out-of-dialog request from this server (a fresh branch and From tag)."""
    outgoing = Message(method=method, uri=str(target), body=body)
    branch = "z9hG4bK" + secrets.token_hex(8)
    outgoing.add(
        "Via", f"SIP/2.0/{local.transport} {local.host}:{local.port};rport;branch={branch}"
    )
    outgoing.add("From", f"<{from_uri}>;tag={new_tag()}")
    outgoing.add("To", f"<{to_uri}>")
    outgoing.add("Call-ID", call_id)
    outgoing.add("CSeq", f"{cseq} {method}")
    outgoing.add("Max-Forwards", "70")
    for name, value in (headers or {}).items():
        outgoing.add(name, value)
    if content_type:
        outgoing.add("Content-Type", content_type)
    outgoing.add("Content-Length", str(len(body)))
    return outgoing


def transaction_key(message: Message) -> str:
    """Matches a response to its request, and a retransmitted request to the first copy:
    the top Via's branch and the CSeq method (RFC 3261 17.1.3, 17.2.3)."""
    via = message.via[0]
    number, method = message.cseq
    branch = via.params.get("branch") or f"{message.call_id}/{number}"
    return f"{branch}/{method}"
