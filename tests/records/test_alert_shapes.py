"""One definition of the alert: the columns of `records.alerts.Alert` (which the migrations are
checked against in test_migrations.py). The rules engine's `AlertState`, the feed's `AlertView`
(and so the live feed's summary) and the API's `AlertOut` hold those columns under the same
names and types; a column added, renamed or retyped in one of them and not in the others fails
here, and what each leaves out is written down."""

import types
import typing
from datetime import UTC, datetime
from typing import Any, get_type_hints

from sqlalchemy.orm import Mapped

from alert_api.alert_views import AlertOut
from records.alerts import Alert, AlertPerson
from records.feed import SUMMARY_FIELDS, AlertView, alert_summary
from records.types import AlertStatus, Severity
from rules.book import ENGINE_COLUMNS, AlertState


def _unmapped(hint: Any) -> Any:
    return typing.get_args(hint)[0] if typing.get_origin(hint) is Mapped else hint


COLUMNS: dict[str, Any] = {
    name: _unmapped(hint)
    for name, hint in get_type_hints(Alert).items()
    if name in Alert.__table__.columns
}
"""Every column of `alerts` and its Python type."""
SHAPE = {**COLUMNS, "person_ids": get_type_hints(Alert.person_ids.fget)["return"]}
"""What every other shape may hold: the columns, and the ids of the persons it is about."""


def _same_as_the_columns(shape: dict[str, Any]) -> None:
    unknown = set(shape) - set(SHAPE)
    assert not unknown, f"not columns of alerts: {sorted(unknown)}"
    retyped = {name: (hint, SHAPE[name]) for name, hint in shape.items() if hint != SHAPE[name]}
    assert not retyped, f"types differ from the columns' (shape, column): {retyped}"


def test_the_engine_state_holds_every_column_but_closed_at() -> None:
    state = get_type_hints(AlertState)
    _same_as_the_columns(state)
    # Only people close alerts (records.lifecycle); the engine never reads or writes it.
    assert set(SHAPE) - set(state) == {"closed_at"}
    assert set(ENGINE_COLUMNS) <= set(state)


def test_the_feed_view_is_the_summary_and_holds_columns() -> None:
    view = {
        name: get_type_hints(member.fget)["return"]
        for name, member in vars(AlertView).items()
        if isinstance(member, property)
    }
    _same_as_the_columns(view)
    assert tuple(view) == SUMMARY_FIELDS
    # Left out of the summary: where the engine keeps its grouping and escalation bookkeeping,
    # the snapshot's event and score, and times only the records need.
    assert set(SHAPE) - set(view) == {
        "group_key",
        "snapshot_event_id",
        "snapshot_confidence",
        "escalated_at",
        "reopened_at",
        "notices_through",
        "reminders",
        "updated_at",
        "closed_at",
    }


def test_the_api_model_is_the_summary_with_names_and_links() -> None:
    out = {name: field.annotation for name, field in AlertOut.model_fields.items()}
    added = {
        "area_name": str | None,
        "site_name": str,
        "source_name": str,
        "zone_name": str | None,
        "snapshot_url": str | None,
        "clip_url": str | None,
    }
    assert {name: out.pop(name) for name in added} == added
    _same_as_the_columns(out)
    # The API shows the snapshot and the clip as signed URLs, names site, source and zone in
    # words and scopes by area, not household.
    assert set(SUMMARY_FIELDS) - set(out) == {"snapshot_path", "clip_path", "household_id"}


AT = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)
SAMPLES: dict[Any, Any] = {
    str: "x",
    int: 7,
    float: 0.9,
    datetime: AT,
    Severity: Severity.CRITICAL,
    AlertStatus: AlertStatus.NEW,
}


def _sample(hint: Any) -> Any:
    if typing.get_origin(hint) is dict:
        return {"zone_tags": ["home"]}
    if isinstance(hint, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return SAMPLES[hint]


def test_the_summary_of_an_alert_and_of_its_engine_state_agree() -> None:
    values = {
        name: _sample(hint)
        for name, hint in get_type_hints(AlertState).items()
        if name != "person_ids"
    }
    state = AlertState(**values, person_ids=[3, 5])
    alert = Alert(**values, persons=[AlertPerson(person_id=5), AlertPerson(person_id=3)])
    summary = alert_summary(alert)
    assert summary == alert_summary(state)
    assert list(summary) == list(SUMMARY_FIELDS)
    assert summary["severity"] == "critical" and summary["first_seen_at"] == AT.isoformat()
    assert summary["person_ids"] == [3, 5]
