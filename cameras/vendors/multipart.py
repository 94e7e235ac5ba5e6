"""Incremental multipart reading for event streams (`multipart/mixed`, `x-mixed-replace`).

Bytes go in as they arrive; complete parts come out. A part with a Content-Length is cut at
that length, one without at the next boundary. A stream that drops in the middle of a part
leaves that part unfinished: it never comes out half-read.
"""

from dataclasses import dataclass

MAX_PART_BYTES = 4 * 1024 * 1024


class MultipartError(ValueError):
    """A stream that is not multipart as announced."""


@dataclass(frozen=True, slots=True)
class Part:
    """One part: its headers (lower-case names) and body."""

    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart Content-Type."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"')
    raise MultipartError(f"no boundary in Content-Type {content_type!r}")


class PartReader:
    """Feed bytes, get the parts completed so far."""

    def __init__(self, boundary: str) -> None:
        # Cameras write the delimiter with or without the leading "--".
        self.delimiters = (f"--{boundary}".encode(), boundary.encode())
        self.buffer = b""

    def feed(self, data: bytes) -> list[Part]:
        """Parts completed by `data`."""
        self.buffer += data
        parts = []
        while (part := self._next()) is not None:
            if part.body or part.headers:
                parts.append(part)
        if len(self.buffer) > MAX_PART_BYTES:
            raise MultipartError(f"a part is larger than {MAX_PART_BYTES} bytes")
        return parts

    def _delimiter_at(self, data: bytes) -> int | None:
        positions = [(data.find(d), d) for d in self.delimiters]
        found = [(at, d) for at, d in positions if at >= 0]
        if not found:
            return None
        return min(found)[0]

    def _next(self) -> Part | None:
        start = self._delimiter_at(self.buffer)
        if start is None:
            return None
        line_end = self.buffer.find(b"\n", start)
        if line_end < 0:
            return None
        head_end = self.buffer.find(b"\r\n\r\n", line_end)
        separator = 4
        if head_end < 0:
            head_end, separator = self.buffer.find(b"\n\n", line_end), 2
        if head_end < 0:
            return None
        headers = {}
        for line in self.buffer[line_end + 1 : head_end].decode("latin-1").splitlines():
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        body_start = head_end + separator
        if not headers:  # the closing delimiter, or an empty preamble part
            self.buffer = self.buffer[line_end + 1 :]
            return Part({}, b"")
        length = headers.get("content-length", "")
        if length.isdigit():
            end = body_start + int(length)
            if len(self.buffer) < end:
                return None
            body = self.buffer[body_start:end]
            self.buffer = self.buffer[end:]
        else:
            following = self._delimiter_at(self.buffer[body_start:])
            if following is None:
                return None
            body = self.buffer[body_start : body_start + following].rstrip(b"\r\n")
            self.buffer = self.buffer[body_start + following :]
        return Part(headers, body)


def split(body: bytes, content_type: str) -> list[Part]:
    """Every part of a complete multipart body (an HTTP POST)."""
    reader = PartReader(boundary_of(content_type))
    parts = reader.feed(body + b"\r\n--" + reader.delimiters[1] + b"--\r\n")
    return [p for p in parts if p.headers]
