"""Sensor health: a sensor silent for longer than its kind's expected report interval is
offline (a silence timer per rule and sensor, `rules/silences.py`: any reading, repeats
included, is a sign of life); a low battery opens an episode that the first reading at or above
`battery_ok_pct` ends (the battery was replaced), kept in Redis per rule and sensor."""

import json
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy.orm import Session

from rules.coverage import Source, Subjects, Watchers
from rules.definitions import Health, Kind, Rule
from rules.signals import Signal
from rules.silences import Note, SilenceState, at_ms, member_of, ms
from shouwang.contracts import Phase
from shouwang.redis_client import run_scripts
from shouwang.redis_keys import rules_key

BATTERY_LOW = Health.BATTERY_LOW.value
SENSOR_OFFLINE = Health.SENSOR_OFFLINE.value
DEFAULT_LOW = 20.0
"""Battery % under which a battery rule without `battery_pct` calls it low."""


def _watches(rule: Rule, signal: Signal) -> bool:
    types = rule.match.sensor_types
    return signal.kind is Kind.SENSOR and (not types or signal.type in types)


class OfflineRules:
    """The sensor-offline rules of a rule set."""

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules

    def listens(self, signal: Signal) -> bool:
        """Whether an offline rule watches this entry's sensor."""
        return signal.kind is Kind.SENSOR and any(_watches(rule, signal) for rule in self.rules)

    @staticmethod
    def interval_s(rule: Rule, sensor_type: str) -> float:
        """How long the sensor may stay silent."""
        intervals = rule.match.report_interval_s
        return intervals.get(sensor_type, intervals["default"])

    def due(
        self, rule: Rule, anchor: int, fired: int | None, context: dict[str, Any]
    ) -> int | None:
        """When a sensor heard last at `anchor` is offline (once per silence)."""
        if fired is not None and fired >= anchor:
            return None
        return anchor + int(self.interval_s(rule, str(context.get("sensor_type", ""))) * 1000)

    def notes(self, signal: Signal) -> list[tuple[Rule, Note]]:
        """Every reading is a sign of life of its sensor."""
        found: list[tuple[Rule, Note]] = []
        for rule in self.rules:
            if not _watches(rule, signal):
                continue
            context = {"site": signal.site, "device": signal.source, "sensor_type": signal.type}
            if signal.source_name:
                context["name"] = signal.source_name
            note = Note(
                member=member_of(rule.id, f"sensor:{signal.site}/{signal.source}"),
                at_ms=ms(signal.observed_at),
                key=signal.key,
                activity=True,
                due_ms=self.due(rule, ms(signal.observed_at), None, context),
                context=context,
            )
            found.append((rule, note))
        return found

    @staticmethod
    def waits(_state: SilenceState) -> bool:
        """A sensor's silence never waits for anything."""
        return False

    def start(self, rule: Rule, episode: str, state: SilenceState, due: int) -> Signal:
        """The entry a silent sensor's alert is raised with."""
        sensor_type = str(state.context.get("sensor_type", ""))
        return Signal(
            kind=Kind.HEALTH,
            key=episode,
            entry_id="",
            site=str(state.context.get("site", "")),
            source=str(state.context.get("device", "")),
            source_name=state.context.get("name"),
            type=SENSOR_OFFLINE,
            phase=Phase.START,
            episode_key=episode,
            observed_at=at_ms(due),
            started_at=at_ms(state.anchor_ms),
            attributes={
                "sensor_type": sensor_type,
                "last_seen": at_ms(state.anchor_ms).isoformat(),
                "silent_s": round((due - state.anchor_ms) / 1000),
            },
        )

    @staticmethod
    def subjects(session: Session, watchers: Watchers, state: SilenceState) -> Subjects | None:
        """Who the silent sensor watches."""
        source = Source(Kind.HEALTH, str(state.context["site"]), str(state.context["device"]), None)
        return watchers.subjects(session, [source])[source]


# KEYS[1] the latches hash. ARGV: field, at ms, entry key, 'low' or 'ok', episode if one opens.
# Returns [phase, episode] when the reading opens or ends an episode, else []; the entry that
# opened or ended one gets the same answer again, and a reading older than that entry changes
# nothing. A later `ok` without an episode forgets the field, so that the next ones find none
# and need no script (`BatteryRules.changes`).
LATCH = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local s = {}
if raw then s = cjson.decode(raw) end
if s.key == ARGV[3] then return cjson.encode(s.result) end
if s.at and tonumber(ARGV[2]) < s.at then return '[]' end
local result
if ARGV[4] == 'low' and not s.episode then
  s.episode = ARGV[5]
  result = {'start', s.episode}
elseif ARGV[4] == 'ok' and s.episode then
  result = {'end', s.episode}
  s.episode = nil
else
  if raw and ARGV[4] == 'ok' then redis.call('HDEL', KEYS[1], ARGV[1]) end
  return '[]'
end
s.key = ARGV[3]
s.at = tonumber(ARGV[2])
s.result = result
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(s))
return cjson.encode(result)
"""


@dataclass(frozen=True, slots=True)
class BatteryChange:
    """A reading that opened or ended a low-battery episode."""

    rule: Rule
    signal: Signal
    """The derived entry: `battery_low` start or end."""
    reading: Signal


class BatteryRules:
    """The low-battery rules of a rule set and their episodes in Redis (hash `battery`)."""

    def __init__(self, rules: tuple[Rule, ...], client: redis.Redis, prefix: str) -> None:
        self.rules = rules
        self.client = client
        self.key = rules_key("battery", prefix)
        self._latch = client.register_script(LATCH)

    def listens(self, signal: Signal) -> bool:
        """Whether a battery rule watches this entry (and it says something of the battery)."""
        return signal.kind is Kind.SENSOR and any(self._state(rule, signal) for rule in self.rules)

    @staticmethod
    def _state(rule: Rule, signal: Signal) -> str | None:
        """`low`, `ok` or None (the reading says neither)."""
        if not _watches(rule, signal):
            return None
        pct, flag = signal.battery_pct, signal.attributes.get("battery_low")
        low = rule.match.battery_pct
        if pct is not None:
            is_low = low.holds(pct) if low is not None else pct < DEFAULT_LOW
            if is_low or flag is True:
                return "low"
            return "ok" if pct >= rule.match.battery_ok_pct else None
        return {True: "low", False: "ok"}.get(flag) if isinstance(flag, bool) else None

    def changes(self, signals: list[Signal]) -> list[BatteryChange]:
        """The episodes these readings open or end: one round trip to see which sensors have
        a latch, one more for the readings that may change one (a low reading, or any reading
        of a sensor with a latch)."""
        wanted: list[tuple[Rule, Signal, str, str]] = []
        for signal in signals:
            for rule in self.rules:
                state = self._state(rule, signal) if signal.kind is Kind.SENSOR else None
                if state is not None:
                    wanted.append((rule, signal, state, f"{rule.id}|{signal.site}/{signal.source}"))
        if not wanted:
            return []
        latched = self.client.hmget(self.key, [field for *_, field in wanted])
        pending: list[tuple[Rule, Signal]] = []
        calls: list[tuple[list[Any], list[Any]]] = []
        touched: set[str] = set()  # latches an earlier reading of this batch may set
        for (rule, signal, state, field), latch in zip(wanted, latched, strict=True):
            if state == "ok" and latch is None and field not in touched:
                continue
            touched.add(field)
            episode = f"battery:{field}:{signal.key}"
            calls.append(([self.key], [field, ms(signal.observed_at), signal.key, state, episode]))
            pending.append((rule, signal))
        if not pending:
            return []
        results = run_scripts(self.client, self._latch, calls)
        found: list[BatteryChange] = []
        for (rule, reading), raw in zip(pending, results, strict=True):
            result = json.loads(raw)
            if isinstance(result, list) and len(result) == 2:
                phase, episode = result
                found.append(BatteryChange(rule, _battery(reading, str(episode), phase), reading))
        return found


def _battery(reading: Signal, episode: str, phase: str) -> Signal:
    started = phase == "start"
    attributes: dict[str, Any] = {"sensor_type": reading.type}
    if "battery_low" in reading.attributes:
        attributes["battery_low"] = reading.attributes["battery_low"]
    return Signal(
        kind=Kind.HEALTH,
        key=f"{reading.key}|{BATTERY_LOW}:{phase}",
        entry_id=reading.entry_id,
        site=reading.site,
        source=reading.source,
        source_name=reading.source_name,
        type=BATTERY_LOW,
        phase=Phase.START if started else Phase.END,
        episode_key=episode,
        observed_at=reading.observed_at,
        started_at=reading.observed_at,
        attributes=attributes,
        battery_pct=reading.battery_pct,
    )
