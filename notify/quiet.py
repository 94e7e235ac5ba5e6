"""Quiet hours: when a recipient asked not to be disturbed, and until when."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from records.types import Severity


def quiet_until(
    now: datetime, start: time, end: time, zone: ZoneInfo, severity: Severity
) -> datetime | None:
    """The end of the quiet hours `now` falls in (UTC), or None if a message of `severity` may
    go now. Critical messages always go. The window is local time in `zone`, `end` exclusive;
    an `end` before `start` runs over midnight."""
    if severity is Severity.CRITICAL or start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    overnight = end < start
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    day = local.date()
    if overnight and clock >= start:
        day += timedelta(days=1)
    # Wall-clock end in the zone (a skipped or repeated hour resolves to a real instant).
    ends = datetime.combine(day, end, tzinfo=zone)
    return ends.astimezone(UTC)
