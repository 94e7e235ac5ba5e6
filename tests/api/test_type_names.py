"""Every kind of alert the pipeline can raise has a name in each language, and the dashboard's
type filter offers every kind the edge's analysers and the sensor rules raise (a `person_down`
alert once showed its raw key)."""

import pytest

from alert_api.i18n import LANGUAGES, Language, translator
from alert_api.pages.staff_pages import ALERT_TYPES
from records.notifications import DeliveryError
from rules.definitions import NO_ACTIVITY, Health
from shouwang.contracts.events import EventType
from shouwang.contracts.sensors import SensorType

EVERY_TYPE = sorted(
    {t.value for t in EventType}
    | {t.value for t in SensorType}
    | {t.value for t in Health}
    | {NO_ACTIVITY, "offline"}
)
ANALYSER_TYPES = {
    EventType.FALL,
    EventType.PERSON_DOWN,
    EventType.LOITERING,
    EventType.UNATTENDED_CHILD,
    EventType.UNATTENDED_ELDER,
    EventType.INACTIVITY,
    EventType.ZONE_INTRUSION,
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_alert_type_has_a_name(language: Language) -> None:
    t = translator(language)
    unnamed = [kind for kind in EVERY_TYPE if t(f"type.{kind}") == f"type.{kind}"]
    assert unnamed == []


def test_the_chinese_names_are_chinese_and_distinct() -> None:
    t = translator("zh")
    names = {kind: t(f"type.{kind}") for kind in EVERY_TYPE}
    assert all(any("\u4e00" <= c <= "\u9fff" for c in name) for name in names.values()), names
    assert len(set(names.values())) == len(names), names


def test_the_type_filter_offers_what_the_analysers_raise() -> None:
    assert {t.value for t in ANALYSER_TYPES} <= set(ALERT_TYPES)
    assert len(set(ALERT_TYPES)) == len(ALERT_TYPES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_delivery_error_has_words(language: Language) -> None:
    t = translator(language)
    assert [
        code for code in DeliveryError if t(f"reason.{code.value}") == f"reason.{code.value}"
    ] == []
