"""The app icon as PNG, drawn in code (an eye in a rounded square): what the web app manifest
names, so the phone page installs without shipping image files."""

import struct
import zlib
from functools import cache

BACKGROUND = (13, 110, 110)
FOREGROUND = (255, 255, 255)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def _pixel(x: float, y: float) -> tuple[int, int, int, int]:
    """Colour at (x, y) in the unit square centred at 0."""
    corner = 0.18
    dx, dy = max(abs(x) - (0.5 - corner), 0), max(abs(y) - (0.5 - corner), 0)
    if dx * dx + dy * dy > corner * corner:
        return (0, 0, 0, 0)
    # the eye: the intersection of two circles, a ring for the iris, a dot for the pupil
    in_eye = (x * x + (y + 0.42) ** 2 < 0.58**2) and (x * x + (y - 0.42) ** 2 < 0.58**2)
    radius = (x * x + y * y) ** 0.5
    if in_eye and not (0.1 < radius < 0.16):
        return (*FOREGROUND, 255)
    return (*BACKGROUND, 255)


@cache
def icon_png(size: int) -> bytes:
    """The icon, `size` × `size` pixels, as PNG bytes."""
    rows = []
    for j in range(size):
        row = bytearray(b"\x00")
        for i in range(size):
            row.extend(_pixel((i + 0.5) / size - 0.5, (j + 0.5) / size - 0.5))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )
