"""Local-time windows: overnight windows, the day a night belongs to, rest days and 调休."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from rules.windows import Calendar, Day, Window, in_any_window

SHANGHAI = ZoneInfo("Asia/Shanghai")
# National Day 2026: 1-7 October off; Saturday 10 October is worked (调休).
CALENDAR = Calendar(
    SHANGHAI,
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({date(2026, 10, 10)}),
)
NIGHT = Window(time(21, 0), time(6, 0))


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (local(2026, 11, 27, 20, 59), False),
        (local(2026, 11, 27, 21, 0), True),
        (local(2026, 11, 27, 23, 59), True),
        (local(2026, 11, 28, 0, 0), True),
        (local(2026, 11, 28, 5, 59), True),
        (local(2026, 11, 28, 6, 0), False),
        (local(2026, 11, 28, 12, 0), False),
    ],
)
def test_overnight_window(moment: datetime, inside: bool) -> None:
    assert NIGHT.contains(moment, CALENDAR) is inside


def test_times_are_read_in_the_local_zone() -> None:
    # 14:30 UTC is 22:30 in Shanghai: night there, though not in UTC.
    assert NIGHT.contains(datetime(2026, 11, 27, 14, 30, tzinfo=UTC), CALENDAR)
    assert not NIGHT.contains(datetime(2026, 11, 27, 4, 0, tzinfo=UTC), CALENDAR)


def test_a_night_belongs_to_the_day_it_starts_on() -> None:
    friday_night = Window(time(21, 0), time(6, 0), frozenset({Day.FRI}))
    assert friday_night.contains(local(2026, 11, 27, 22, 0), CALENDAR)  # Friday evening
    assert friday_night.contains(local(2026, 11, 28, 3, 0), CALENDAR)  # early Saturday
    assert not friday_night.contains(local(2026, 11, 28, 22, 0), CALENDAR)  # Saturday night
    assert not friday_night.contains(local(2026, 11, 27, 3, 0), CALENDAR)  # Thursday's night


def test_rest_days_follow_holidays_and_make_up_workdays() -> None:
    daytime = Window(time(8, 0), time(18, 0), frozenset({Day.HOLIDAY}))
    assert daytime.contains(local(2026, 10, 1, 9), CALENDAR)  # Thursday, National Day
    assert daytime.contains(local(2026, 10, 11, 9), CALENDAR)  # an ordinary Sunday
    assert not daytime.contains(local(2026, 10, 10, 9), CALENDAR)  # Saturday worked
    assert not daytime.contains(local(2026, 10, 12, 9), CALENDAR)  # Monday
    workday = Window(time(8, 0), time(18, 0), frozenset({Day.WORKDAY}))
    assert workday.contains(local(2026, 10, 10, 9), CALENDAR)
    assert not workday.contains(local(2026, 10, 2, 9), CALENDAR)


def test_no_windows_means_always() -> None:
    assert in_any_window(local(2026, 11, 27, 12), [], CALENDAR)
    day = Window(time(8, 0), time(18, 0))
    assert in_any_window(local(2026, 11, 27, 23), [day, NIGHT], CALENDAR)
    assert not in_any_window(local(2026, 11, 27, 19), [day, NIGHT], CALENDAR)
