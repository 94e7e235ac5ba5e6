"""Exporting records as CSV a spreadsheet opens (UTF-8 with BOM, or GBK)."""

import csv
import io
from typing import Literal

from sqlalchemy.orm import Session

from records.watchlist_csv.encoding import Encoding, encode
from records.watchlist_csv.registry import KINDS


def export_csv(
    session: Session,
    kind: str,
    *,
    encoding: Encoding = "utf-8-sig",
    headers: Literal["en", "zh"] = "en",
) -> bytes:
    """Every record of `kind` as CSV bytes, with English or Chinese headers (both import)."""
    handler = KINDS[kind](session)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = handler.columns
    writer.writerow([c.name if headers == "en" else c.zh for c in columns])
    for row in handler.export():
        writer.writerow([row.get(c.name, "") for c in columns])
    return encode(buffer.getvalue(), encoding)
