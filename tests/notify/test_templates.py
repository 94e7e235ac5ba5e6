"""SMS and voice template values: `{place}` and `{lead}` as the rules engine composed them,
whatever the body around them; jobs queued before they were carried read them from the body."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notify.channel import Message
from notify.settings import TEMPLATE_FIELDS
from notify.templates import composed, template_values
from records.alerts import Alert
from records.types import Severity
from rules.notifications import wording

ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
TITLE = "老人跌倒：王秀英"
HOME = {"address": "马岩村一组12号", "source_name": "堂屋"}
PLACE = "马岩村一组12号 · 堂屋"
DISPATCH = "派单：请于12:31前到场处置"
URGE = "督办：十分钟内回报"

CASES = [
    # details, lead → body, place
    (HOME, "", f"【危急】{TITLE}｜{PLACE}｜11-27 12:00", PLACE),
    (HOME, DISPATCH, f"【危急】{DISPATCH}｜{TITLE}｜{PLACE}｜11-27 12:00", PLACE),
    ({}, "", f"【危急】{TITLE}｜11-27 12:00", ""),
    ({}, URGE, f"【危急】{URGE}｜{TITLE}｜11-27 12:00", ""),
]


def message(body: str, place: str | None, lead: str | None) -> Message:
    return Message("7:0:staff:1", 7, 0, Severity.CRITICAL, TITLE, body, place, lead, AT)


@pytest.mark.parametrize(("details", "lead", "body", "place"), CASES)
def test_the_values_are_the_ones_the_body_was_composed_from(
    details: dict[str, Any], lead: str, body: str, place: str
) -> None:
    alert = Alert(title=TITLE, severity=Severity.CRITICAL, details=details, first_seen_at=AT)
    said = wording(alert, ZONE, lead)
    assert (said.body, said.place, said.lead) == (body, place, lead)

    values = template_values(message(said.body, said.place, said.lead), ZONE)
    assert values == {
        "title": TITLE,
        "severity": "危急",
        "place": place,
        "lead": lead,
        "time": "12:00",
        "alert_id": "7",
    }
    assert tuple(values) == TEMPLATE_FIELDS


@pytest.mark.parametrize(("details", "lead", "body", "place"), CASES)
def test_a_job_queued_before_they_were_carried_reads_them_from_its_body(
    details: dict[str, Any], lead: str, body: str, place: str
) -> None:
    values = template_values(message(body, None, None), ZONE)
    assert (values["place"], values["lead"]) == (place, lead)


def test_a_body_not_composed_around_the_title_says_no_place_or_lead() -> None:
    assert composed("这是一条测试通知：渠道配置正确。", "守望 测试通知") == ("", "")
    assert composed(f"【危急】{TITLE}", TITLE) == ("", "")
