"""A sensor's clear reading ends its episode: the door closes, the smoke clears, the floor is dry,
the motion stops. The open alerts the sensor's rules raised about it (their condition not yet
ended) get the reading in their timeline as the end, and `condition_ended_at`; people still
close them. A later alarm reading joins the alert again within its cooldown and clears the
end, as any new event does."""

from collections.abc import Collection
from dataclasses import replace

from rules.book import AlertBook, AlertState
from rules.definitions import Kind
from rules.signals import Signal
from shouwang.contracts import Phase, SensorType

CLEARABLE = frozenset(
    {SensorType.DOOR_CONTACT, SensorType.MOTION, SensorType.SMOKE, SensorType.WATER_LEAK}
)
"""Flag sensors whose `false` is the clear state (a button's `false` is only a check-in)."""


def is_clear(signal: Signal) -> bool:
    """Whether the entry is a clear reading that may end an episode (a repeat of an earlier
    clear cannot: that one ended it)."""
    return (
        signal.kind is Kind.SENSOR
        and signal.type in CLEARABLE
        and signal.value is False
        and signal.attributes.get("repeated") is not True
    )


def clear_sensor_alerts(
    book: AlertBook, signal: Signal, rule_ids: Collection[str]
) -> list[AlertState]:
    """Record the clear reading as the end of the open alerts these rules raised about its
    sensor and type (those first seen before it); returns them."""
    end = replace(signal, phase=Phase.END)
    ended: list[AlertState] = []
    for alert in book.open_alerts_of(signal, rule_ids):
        if alert.first_seen_at > signal.observed_at or book.recorded(signal.key, alert.rule_id):
            continue
        book.add_event(alert, alert.rule_id, end)
        alert.condition_ended_at = signal.observed_at
        book.changed(alert)
        ended.append(alert)
    return ended
