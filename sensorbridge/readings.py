"""Wire-contract sensor readings built from what a third-party payload said."""

import hashlib
from datetime import datetime

from shouwang.contracts import SCHEMA_VERSION, SensorReading, SensorType

Attributes = dict[str, bool | int | float | str]


class Unreadable(ValueError):
    """A payload, or one of its values, that cannot be read; the message says which."""


def reading_id(protocol: str, address: str, kind: SensorType, at: datetime, payload: bytes) -> str:
    """A reading id derived from what was heard, so the same message read twice (redelivered
    by the broker) is stored once."""
    digest = hashlib.sha256(f"{protocol}|{address}|{kind.value}|{at.isoformat()}|".encode())
    digest.update(payload)
    return f"{protocol[:3]}-{digest.hexdigest()[:40]}"


def build_reading(
    *,
    site: str,
    device: str,
    kind: SensorType,
    name: str = "",
    value: bool | float,
    at: datetime,
    reading: str,
    battery_pct: float | None = None,
    unit: str | None = None,
    attributes: Attributes | None = None,
) -> SensorReading:
    """A validated reading (raises pydantic's ValidationError if a value breaks the contract)."""
    return SensorReading(
        schema_version=SCHEMA_VERSION,
        reading_id=reading,
        site=site,
        device=device,
        device_name=name or None,
        sensor_type=kind,
        observed_at=at,
        value=value,
        unit=unit,
        battery_pct=battery_pct,
        attributes=attributes or {},
    )
