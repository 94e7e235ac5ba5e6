"""Request parameter types shared by the endpoints: ids the databases can hold, names without
control characters, times with an offset."""

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import AfterValidator, StringConstraints

MAX_ID = 2**31 - 1
"""Largest id a record can have (PostgreSQL `integer`)."""

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
"""Codes, sites, sources and types as the wire contract and the CSV imports write them."""


def _printable(value: str) -> str:
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise ValueError("control characters are not allowed")
    return value


Text = Annotated[str, AfterValidator(_printable)]
"""Free text (notes, names): any characters but control characters (NUL breaks PostgreSQL)."""
Code = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]


def aware(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """`value` with an offset: a time without one is read in the deployment's time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=zone)
