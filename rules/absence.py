"""Absence rules: an alert when something expected does *not* happen — no reading of the rule's
kinds (with its value) from the sensors covering a person for `silent_s`, or within a window
(no door opened and no motion between 07:00 and 11:00), and, with `cameras`, nobody seen in the
covering cameras' home zones either.

Each (rule, person) is a member of the silence timers (`rules/silences.py`): an activity moves
its anchor; the timer is due when the silence since the anchor has lasted. A reading that is no
activity (a repeat, a door closing) starts the watch if none runs. Times are absolute (UTC ms);
windows are read in the rules' time zone, one local day at a time.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from rules.coverage import Subjects, Watchers, person_subjects
from rules.definitions import NO_ACTIVITY, Kind, Rule, holds
from rules.matching import wards_for
from rules.signals import Signal
from rules.silences import Note, SilenceState, at_ms, member_of, ms
from rules.windows import Calendar, Window
from shouwang.contracts import EventType, Phase

SEEN = "seen"
QUIET = "quiet"
"""What a covering camera's home zone says: someone seen (its inactivity episode ended by
activity) or nobody there (an inactivity episode runs)."""


def absence_due(
    anchor: datetime,
    fired: datetime | None,
    windows: Iterable[Window],
    silent_s: float,
    calendar: Calendar,
) -> datetime | None:
    """When the silence since `anchor` (the last activity) raises the alert: `silent_s` after
    it, or — with windows — at the end of a window that passed without activity (with
    `silent_s`: once the window has been silent that long). A silence already raised at `fired`
    raises again only in a later window. None: never."""
    listed = list(windows)
    if not listed:
        if fired is not None and fired >= anchor:
            return None
        return anchor + timedelta(seconds=silent_s)
    found = [
        due
        for window in listed
        if (due := _window_due(window, anchor, fired, silent_s, calendar)) is not None
    ]
    return min(found) if found else None


def _window_due(
    window: Window, anchor: datetime, fired: datetime | None, silent_s: float, calendar: Calendar
) -> datetime | None:
    for start, end in window.occurrences(anchor, calendar):
        if fired is not None and start <= fired:
            continue
        if not silent_s:
            if anchor < start:
                return end
            continue
        due = max(anchor, start) + timedelta(seconds=silent_s)
        if due <= end:
            return due
    return None


class AbsenceRules:
    """The absence rules of a rule set, and what they make of entries and due timers."""

    def __init__(self, rules: tuple[Rule, ...], calendar: Calendar) -> None:
        self.rules = rules
        self.calendar = calendar
        self._kinds = frozenset(t for rule in rules for t in rule.match.types)
        self._camera_tags = frozenset(t for rule in rules for t in rule.match.cameras)

    def listens(self, signal: Signal) -> bool:
        """Whether an absence rule listens to this entry (its sensor kinds, camera zones)."""
        if signal.kind is Kind.SENSOR:
            return signal.type in self._kinds
        if signal.kind is not Kind.EVENT or not self._camera_tags:
            return False
        return any(self._listens(rule, signal) for rule in self.rules)

    @staticmethod
    def _listens(rule: Rule, signal: Signal) -> bool:
        match = rule.match
        if signal.kind is Kind.SENSOR:
            return signal.type in match.types
        if signal.kind is not Kind.EVENT or not match.cameras:
            return False
        if signal.type == EventType.CAMERA_OFFLINE.value:
            return signal.phase is Phase.START
        return signal.type == EventType.INACTIVITY.value and bool(
            set(match.cameras) & set(signal.zone_tags)
        )

    def due(
        self, rule: Rule, anchor: int, fired: int | None, context: dict[str, Any]
    ) -> int | None:
        """A member's next due time (ms)."""
        windows = [spec.window() for spec in rule.match.windows]
        fired_at = at_ms(fired) if fired is not None else None
        due = absence_due(at_ms(anchor), fired_at, windows, rule.match.silent_s, self.calendar)
        return None if due is None else ms(due)

    def notes(self, signal: Signal, subjects: Subjects) -> list[tuple[Rule, Note]]:
        """What an entry means for the members of the persons its source covers."""
        found: list[tuple[Rule, Note]] = []
        for rule in self.rules:
            if not self._listens(rule, signal):
                continue
            activity, camera = self._reading(rule, signal)
            at = ms(signal.observed_at)
            for ward in wards_for(rule, subjects) or []:
                context = {
                    "site": signal.site,
                    "person": ward.id,
                    "code": ward.code,
                    "name": ward.name,
                }
                note = Note(
                    member=member_of(rule.id, f"person:{ward.id}"),
                    at_ms=at,
                    key=signal.key,
                    activity=activity,
                    due_ms=self.due(rule, at, None, context),
                    context=context,
                    camera=camera,
                )
                found.append((rule, note))
        return found

    @staticmethod
    def _reading(rule: Rule, signal: Signal) -> tuple[bool, tuple[str, str, str] | None]:
        """Whether the entry is activity for the rule, and what it says of a camera zone."""
        if signal.kind is Kind.SENSOR:
            if signal.attributes.get("repeated") is True:
                return False, None
            value = rule.match.value
            return value is None or holds(value, signal.value), None
        if signal.type == EventType.CAMERA_OFFLINE.value:
            return False, ("drop", f"{signal.source}#", "")
        zone = f"{signal.source}#{signal.zone or ''}"
        if signal.phase is not Phase.END:
            return False, ("set", zone, QUIET)
        if signal.attributes.get("end_reason", "activity") == "activity":
            return True, ("set", zone, SEEN)
        return False, ("drop", zone, "")  # the analyser's hours ended, or it stopped

    @staticmethod
    def waits(state: SilenceState) -> bool:
        """Whether the alert waits: a covering camera sees someone right now."""
        return SEEN in state.cameras.values()

    def start(self, rule: Rule, episode: str, state: SilenceState, due: int) -> Signal:
        """The entry a silence that lasted raises its alert with."""
        watched = [*rule.match.types, *(f"camera:{tag}" for tag in rule.match.cameras)]
        return Signal(
            kind=Kind.ABSENCE,
            key=episode,
            entry_id="",
            site=str(state.context.get("site", "")),
            source=str(state.context.get("code", "")),
            source_name=state.context.get("name"),
            type=NO_ACTIVITY,
            phase=Phase.START,
            episode_key=episode,
            observed_at=at_ms(due),
            started_at=at_ms(state.anchor_ms),
            attributes={
                "silent_s": round((due - state.anchor_ms) / 1000),
                "last_activity": at_ms(state.anchor_ms).isoformat(),
                "watched": ", ".join(watched),
            },
        )

    @staticmethod
    def subjects(session: Session, _watchers: Watchers, state: SilenceState) -> Subjects | None:
        """Who the alert is about: the member's person (if still on the list)."""
        person = state.context.get("person")
        return person_subjects(session, int(person)) if person is not None else None
