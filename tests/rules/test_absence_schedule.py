"""When an absence rule's silence is due: rolling, whole windows, silences within a window,
overnight windows, rest days, and daylight-saving changes — exact in absolute time whatever
offset the readings carry."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from rules.absence import absence_due
from rules.definitions import RulesError, parse_rules
from rules.windows import Calendar, Day, Window

SHANGHAI = Calendar(ZoneInfo("Asia/Shanghai"))
MORNING = Window(time(7), time(11))
DAYTIME = Window(time(7), time(21))


def local(day: int, hour: int, minute: int = 0, zone: str = "Asia/Shanghai") -> datetime:
    """A wall-clock time in November 2026 (the 27th is a Friday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(zone))


def test_rolling_silence_is_due_once_after_the_last_activity() -> None:
    anchor = local(27, 21)
    assert absence_due(anchor, None, [], 12 * 3600, SHANGHAI) == local(28, 9)
    assert absence_due(anchor, local(28, 9), [], 12 * 3600, SHANGHAI) is None
    # The same moment written in another offset is the same silence.
    utc = anchor.astimezone(UTC)
    assert absence_due(utc, None, [], 12 * 3600, SHANGHAI) == local(28, 9)


def test_whole_window_without_activity_is_due_at_its_end() -> None:
    assert absence_due(local(27, 6, 30), None, [MORNING], 0, SHANGHAI) == local(27, 11)
    assert absence_due(local(26, 18), None, [MORNING], 0, SHANGHAI) == local(27, 11)
    # Activity inside the window: nothing today, the next morning counts.
    assert absence_due(local(27, 7), None, [MORNING], 0, SHANGHAI) == local(28, 11)
    assert absence_due(local(27, 10, 59), None, [MORNING], 0, SHANGHAI) == local(28, 11)
    # Once raised, a silence that goes on raises again only the next morning.
    assert absence_due(local(27, 6), local(27, 11), [MORNING], 0, SHANGHAI) == local(28, 11)
    # A reading in +00:00 for 06:30 Shanghai time is still before the window.
    early = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)
    assert absence_due(early, None, [MORNING], 0, SHANGHAI) == local(27, 11)
    written = datetime(2026, 11, 27, 5, 30, tzinfo=timezone(timedelta(hours=7)))
    assert absence_due(written, None, [MORNING], 0, SHANGHAI) == local(27, 11)


def test_silence_within_a_window_counts_from_its_start_or_the_last_activity() -> None:
    two_hours = 2 * 3600
    assert absence_due(local(27, 6), None, [DAYTIME], two_hours, SHANGHAI) == local(27, 9)
    assert absence_due(local(27, 8, 30), None, [DAYTIME], two_hours, SHANGHAI) == local(27, 10, 30)
    # Two hours from 20:00 would end after the window: the next day's window then.
    assert absence_due(local(27, 20), None, [DAYTIME], two_hours, SHANGHAI) == local(28, 9)
    fired = local(27, 9)
    assert absence_due(local(27, 6), fired, [DAYTIME], two_hours, SHANGHAI) == local(28, 9)


def test_overnight_window_belongs_to_the_day_it_starts_and_rest_days_count() -> None:
    night = Window(time(22), time(6), frozenset({Day.FRI}))
    # Friday 22:00 to Saturday 06:00; from Saturday on, the next Friday.
    assert absence_due(local(27, 12), None, [night], 0, SHANGHAI) == local(28, 6)
    assert absence_due(local(27, 23), None, [night], 0, SHANGHAI) == local(28, 6) + timedelta(
        days=7
    )
    holidays = Calendar(ZoneInfo("Asia/Shanghai"), holidays=frozenset({date(2026, 11, 30)}))
    workday_mornings = Window(time(7), time(11), frozenset({Day.WORKDAY}))
    # Friday's morning has passed; Saturday, Sunday and the Monday holiday are rest days.
    due = absence_due(local(27, 12), None, [workday_mornings], 0, holidays)
    assert due == datetime(2026, 12, 1, 11, tzinfo=ZoneInfo("Asia/Shanghai"))
    # Several windows: the earliest that comes.
    evening = Window(time(17), time(20))
    assert absence_due(local(27, 12), None, [MORNING, evening], 0, SHANGHAI) == local(27, 20)


def test_daylight_saving_changes_follow_the_local_clock() -> None:
    berlin = Calendar(ZoneInfo("Europe/Berlin"))
    small_hours = Window(time(1), time(5))
    # 29 March 2026: clocks go from 02:00 to 03:00; 01:00-05:00 lasts three hours.
    before = datetime(2026, 3, 28, 22, tzinfo=ZoneInfo("Europe/Berlin"))
    due = absence_due(before, None, [small_hours], 0, berlin)
    assert due == datetime(2026, 3, 29, 3, tzinfo=UTC)  # 05:00 CEST
    assert due is not None and due.astimezone(ZoneInfo("Europe/Berlin")).hour == 5
    # A silence of 3.5 hours from 01:00 no longer fits that shorter night.
    nights = absence_due(before, None, [small_hours], 3.5 * 3600, berlin)
    assert nights == datetime(2026, 3, 30, 2, 30, tzinfo=UTC)  # 04:30 CEST the next night
    # 1 November 2026 in New York: 01:00 comes twice; 00:00-04:00 lasts five hours.
    new_york = Calendar(ZoneInfo("America/New_York"))
    start = datetime(2026, 10, 31, 20, tzinfo=ZoneInfo("America/New_York"))
    due = absence_due(start, None, [Window(time(0), time(4))], 4.5 * 3600, new_york)
    assert due == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 03:30 EST
    assert due is not None and due.astimezone(ZoneInfo("America/New_York")).hour == 3


def test_silence_longer_than_its_window_is_refused() -> None:
    text = """
version: 1
rules:
  - id: r1
    match:
      {kind: absence, types: [motion], silent_s: 18000, windows: [{start: "07:00", end: "11:00"}]}
    alert: {severity: high, title: t}
"""
    with pytest.raises(RulesError, match="silent_s 18000 is longer than the window 07:00-11:00"):
        parse_rules(text)
    with pytest.raises(RulesError, match="needs silent_s, windows, or both"):
        parse_rules(
            text.replace(', silent_s: 18000, windows: [{start: "07:00", end: "11:00"}]', "")
        )
    with pytest.raises(RulesError, match="zone_tags: not for kind: absence"):
        parse_rules(text.replace("silent_s: 18000", "zone_tags: [home], silent_s: 60"))
