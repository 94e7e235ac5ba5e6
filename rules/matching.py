"""Whether an entry meets a rule: first what the entry alone decides, then the watch list."""

from rules.coverage import Subjects, Ward, wards_matching
from rules.definitions import Rule, holds
from rules.signals import Signal
from rules.windows import Calendar, in_any_window


def signal_matches(rule: Rule, signal: Signal, calendar: Calendar) -> bool:
    """Everything about the rule that the entry alone decides (no database)."""
    match = rule.match
    if signal.kind is not match.kind:
        return False
    if match.types and signal.type not in match.types:
        return False
    if signal.phase not in match.phases:
        return False
    if match.zone_tags and not set(match.zone_tags) & set(signal.zone_tags):
        return False
    if match.min_confidence and (signal.confidence or 0.0) < match.min_confidence:
        return False
    if match.min_duration_s and signal.duration_s < match.min_duration_s:
        return False
    if match.value is not None and not holds(match.value, signal.value):
        return False
    if match.battery_pct is not None and not match.battery_pct.holds(signal.battery_pct):
        return False
    if any(not holds(cond, signal.attributes.get(name)) for name, cond in match.attributes.items()):
        return False
    return in_any_window(signal.observed_at, (w.window() for w in match.windows), calendar)


def wards_for(rule: Rule, subjects: Subjects) -> list[Ward] | None:
    """The persons the alert is about, or None if the rule's watch-list condition fails.

    Without a condition every covered person is concerned (their guardians hear of it).
    """
    spec = rule.match.watchlist
    if spec is None:
        return list(subjects.persons)
    wards = wards_matching(spec, subjects.persons)
    return wards or None
