"""SIP messages in and out: parsing with `sipmessage`, responses and requests built from them."""

import secrets
from dataclasses import dataclass

from sipmessage import URI, Address, CSeq, Message, Request, Response, Via

MAX_MESSAGE_BYTES = 64 * 1024
"""Larger SIP messages are refused (a MANSCDP catalog page is a few KiB)."""

PHRASES = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    423: "Interval Too Brief",
    481: "Call/Transaction Does Not Exist",
    489: "Bad Event",
    500: "Server Internal Error",
}


class SipError(ValueError):
    """A datagram or stream chunk that is not a usable SIP message."""


@dataclass(frozen=True, slots=True)
class Peer:
    """Where a message came from (and where its answers go): transport and address."""

    transport: str
    """`UDP` or `TCP`."""
    host: str
    port: int


def parse(data: bytes) -> Request | Response:
    """One SIP message; raise SipError saying what is wrong with it."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipError(f"message is {len(data)} bytes, limit {MAX_MESSAGE_BYTES}")
    try:
        message = Message.parse(data)
        length = message.content_length
        _ = (message.call_id, message.cseq, message.via)
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise SipError(f"not a SIP message: {exc or type(exc).__name__}") from None
    if length is not None:
        if length > len(message.body):
            raise SipError(f"body is {len(message.body)} bytes, Content-Length says {length}")
        message.body = message.body[:length]
    if isinstance(message, Request) and not message.via:
        raise SipError("request has no Via header")
    return message


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


def new_branch() -> str:
    """A Via branch (RFC 3261 magic cookie prefix)."""
    return "z9hG4bK" + secrets.token_hex(8)


def response(
    request: Request,
    code: int,
    *,
    to_tag: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> Response:
    """A response to `request`: Via, From, Call-ID and CSeq copied, a tag added to To."""
    reply = Response(code, PHRASES.get(code, "Unknown"), body)
    for via in request.headers.getlist("Via"):
        reply.headers.add("Via", via)
    reply.headers.add("From", request.headers["From"])
    to = request.to_address
    if "tag" not in to.parameters and code != 100:
        to = Address(uri=to.uri, name=to.name, parameters=to.parameters.replace(tag=to_tag))
    reply.headers.add("To", str(to))
    reply.headers.add("Call-ID", request.call_id)
    reply.headers.add("CSeq", str(request.cseq))
    for name, value in (headers or {}).items():
        reply.headers.add(name, value)
    if content_type:
        reply.headers.add("Content-Type", content_type)
    reply.headers.add("Content-Length", str(len(body)))
    return reply


def request(
    method: str,
    target: URI,
    *,
    local: Peer,
    from_uri: URI,
    to_uri: URI,
    call_id: str,
    cseq: int,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> Request:
    """A new out-of-dialog request from this server (a fresh branch and From tag)."""
    outgoing = Request(method, target, body)
    via = Via(transport=local.transport, host=local.host, port=local.port)
    outgoing.headers.add("Via", f"{via};rport;branch={new_branch()}")
    outgoing.headers.add("From", f"<{from_uri}>;tag={new_tag()}")
    outgoing.headers.add("To", f"<{to_uri}>")
    outgoing.headers.add("Call-ID", call_id)
    outgoing.headers.add("CSeq", str(CSeq(sequence=cseq, method=method)))
    outgoing.headers.add("Max-Forwards", "70")
    for name, value in (headers or {}).items():
        outgoing.headers.add(name, value)
    if content_type:
        outgoing.headers.add("Content-Type", content_type)
    outgoing.headers.add("Content-Length", str(len(body)))
    return outgoing


def transaction_key(message: Request | Response) -> str:
    """Matches a response to its request, and a retransmitted request to the first copy:
    the top Via's branch and the CSeq method (RFC 3261 17.1.3, 17.2.3)."""
    via = message.via[0]
    branch = via.parameters.get("branch") or f"{message.call_id}/{message.cseq.sequence}"
    return f"{branch}/{message.cseq.method}"
