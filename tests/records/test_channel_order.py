"""Reading a channel order: channels, waits, minimum severities, and what is wrong."""

import re

import pytest

from records.channel_order import ChannelStep, parse_order, parse_step
from records.types import Severity
from records.watchlist_csv import cells


def test_entries_read_as_steps() -> None:
    assert parse_order(["webpush", "[60s] sms", "[2m critical] voice", " "]) == [
        ChannelStep("webpush"),
        ChannelStep("sms", 60),
        ChannelStep("voice", 120, Severity.CRITICAL),
    ]
    assert parse_step("[90秒, 危急]dingtalk://SEC1@tok/") == ChannelStep(
        "dingtalk://SEC1@tok/", 90, Severity.CRITICAL
    )
    assert parse_step("[high] sms").applies(Severity.CRITICAL)
    assert not parse_step("[high] sms").applies(Severity.MEDIUM)


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("[soon] sms", "'soon' in '[soon] sms' is neither a wait"),
        ("[60s] phone", "'phone' is not a channel"),
        ("[2000m] sms", "waits longer than a day"),
        ("sms now", "'sms now' is not a channel"),
    ],
)
def test_a_wrong_entry_says_what_is_wrong(entry: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        parse_step(entry)
    with pytest.raises(cells.CellError, match=re.escape(says)):
        cells.channels(f"webpush; {entry}")


def test_the_csv_cell_keeps_the_entries_as_written() -> None:
    assert cells.channels("webpush; [60s] sms;[2m critical] voice") == [
        "webpush",
        "[60s] sms",
        "[2m critical] voice",
    ]
