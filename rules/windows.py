"""Time windows in local time: days of the week, rest days and overnight windows."""

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Day(StrEnum):
    """A day a window may start on: a weekday, or any rest day / working day."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"
    HOLIDAY = "holiday"
    """A rest day: a listed public holiday, or a weekend that is not a listed make-up workday."""
    WORKDAY = "workday"
    """Any day that is not a rest day."""


WEEKDAYS = (Day.MON, Day.TUE, Day.WED, Day.THU, Day.FRI, Day.SAT, Day.SUN)


@dataclass(frozen=True, slots=True)
class Calendar:
    """The time zone and the rest days the windows are read in."""

    zone: ZoneInfo
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    """Weekend days worked to make up for a holiday (调休)."""

    def is_rest_day(self, day: date) -> bool:
        """Whether `day` is a holiday or a weekend day not worked."""
        if day in self.holidays:
            return True
        return day.weekday() >= 5 and day not in self.workdays

    def day_matches(self, day: date, days: Collection[Day]) -> bool:
        """Whether a window limited to `days` may start on `day` (no days: every day)."""
        if not days:
            return True
        if WEEKDAYS[day.weekday()] in days:
            return True
        rest = self.is_rest_day(day)
        return (Day.HOLIDAY in days and rest) or (Day.WORKDAY in days and not rest)


@dataclass(frozen=True, slots=True)
class Window:
    """From `start` to `end` local time; `end` before `start` runs overnight, and then the
    night belongs to the day it started on (Friday 21:00–Saturday 06:00 is Friday's)."""

    start: time
    end: time
    days: frozenset[Day] = frozenset()

    @property
    def overnight(self) -> bool:
        """Whether the window crosses midnight."""
        return self.end < self.start

    def contains(self, moment: datetime, calendar: Calendar) -> bool:
        """Whether the (aware) `moment` falls in this window."""
        local = moment.astimezone(calendar.zone)
        clock = local.time().replace(tzinfo=None)
        today = local.date()
        if not self.overnight:
            return self.start <= clock < self.end and calendar.day_matches(today, self.days)
        if clock >= self.start:
            return calendar.day_matches(today, self.days)
        if clock < self.end:
            return calendar.day_matches(today - timedelta(days=1), self.days)
        return False

    def occurrences(
        self, after: datetime, calendar: Calendar, horizon_days: int = 400
    ) -> Iterator[tuple[datetime, datetime]]:
        """The window's (start, end) in UTC, in order, from the one ending after `after` on,
        for `horizon_days`. Its length in real time follows the local clock: a window across a
        daylight-saving change is an hour shorter or longer. (UTC, because Python compares and
        subtracts two times of the same zone by their wall clocks.)"""
        first = after.astimezone(calendar.zone).date() - timedelta(days=1)
        for offset in range(horizon_days + 2):
            day = first + timedelta(days=offset)
            if not calendar.day_matches(day, self.days):
                continue
            start = datetime.combine(day, self.start, tzinfo=calendar.zone).astimezone(UTC)
            end_day = day + timedelta(days=1) if self.overnight else day
            end = datetime.combine(end_day, self.end, tzinfo=calendar.zone).astimezone(UTC)
            if end > after:
                yield start, end


def in_any_window(moment: datetime, windows: Iterable[Window], calendar: Calendar) -> bool:
    """Whether `moment` falls in one of `windows` (no windows: always)."""
    listed = list(windows)
    return not listed or any(window.contains(moment, calendar) for window in listed)
