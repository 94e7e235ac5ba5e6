"""The rule set: declarative YAML, validated into typed rules with errors that say where."""

import re
import string
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from records.types import Category, Severity
from rules.windows import Calendar, Day, Window
from shouwang.contracts import EdgeState, EventType, Phase, SensorType


class RulesError(Exception):
    """A rule file that cannot be used; the message names the file, line, rule and key."""


class Kind(StrEnum):
    """What a rule matches: a kind of stream entry, or a condition derived from readings over
    time (no activity from a person's sensors; a sensor's own health)."""

    EVENT = "event"
    SENSOR = "sensor"
    STATUS = "status"
    ABSENCE = "absence"
    HEALTH = "health"


class Health(StrEnum):
    """Conditions of a sensor itself (rules of `kind: health`)."""

    SENSOR_OFFLINE = "sensor_offline"
    BATTERY_LOW = "battery_low"


NO_ACTIVITY = "no_activity"
"""The type of the alerts absence rules raise."""

KIND_TYPES: dict[Kind, frozenset[str]] = {
    Kind.EVENT: frozenset(t.value for t in EventType),
    Kind.SENSOR: frozenset(t.value for t in SensorType),
    Kind.STATUS: frozenset(s.value for s in EdgeState if s is not EdgeState.ONLINE),
    Kind.ABSENCE: frozenset(t.value for t in SensorType),
    Kind.HEALTH: frozenset(h.value for h in Health),
}
"""Types a rule of each kind may name (an edge's `online` only ends its `offline`; an absence
rule names the sensor kinds whose readings are activity)."""
REPORT_INTERVALS_S: dict[str, float] = {"default": 25 * 3600.0, "temperature": 3 * 3600.0}
"""Expected report intervals of the sensor-offline rule unless it says otherwise: a battery
Zigbee device checks in at least daily (Zigbee2MQTT's own default), a thermometer hourly."""


class GroupBy(StrEnum):
    """What makes two events the same alert (within the cooldown); the rule always counts."""

    SITE = "site"
    SOURCE = "source"
    ZONE = "zone"
    TYPE = "type"
    HOUSEHOLD = "household"
    PERSONS = "persons"
    EPISODE = "episode"


TITLE_FIELDS = frozenset({"site", "source", "zone", "type", "persons", "address"})
"""Placeholders a title may use: `{persons}` names the persons concerned."""


class RuleModel(BaseModel):
    """Strict rule-file model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Scalar = bool | int | float | str


class Compare(RuleModel):
    """A numeric condition: any of eq, gt, gte, lt, lte (all given must hold)."""

    eq: Scalar | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if all(v is None for v in (self.eq, self.gt, self.gte, self.lt, self.lte)):
            raise ValueError("give at least one of eq, gt, gte, lt, lte")
        return self

    def holds(self, value: Any) -> bool:
        """Whether `value` satisfies every bound given."""
        if value is None:
            return False
        if self.eq is not None and not _equal(value, self.eq):
            return False
        bounds = [
            (self.gt, float.__gt__),
            (self.gte, float.__ge__),
            (self.lt, float.__lt__),
            (self.lte, float.__le__),
        ]
        if any(bound is not None for bound, _ in bounds):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            return all(op(float(value), bound) for bound, op in bounds if bound is not None)
        return True


def _scalar(value: Any) -> Scalar:
    if isinstance(value, bool | int | float | str):
        return value
    raise ValueError(
        "must be a value (number, true/false, text) or a mapping of eq, gt, gte, lt, lte"
    )


Condition = Annotated[
    Annotated[Compare, Tag("condition:compare")]
    | Annotated[Scalar, PlainValidator(_scalar), Tag("condition:value")],
    Discriminator(
        lambda v: "condition:compare" if isinstance(v, dict | Compare) else "condition:value"
    ),
]
"""A plain value (equality) or a Compare mapping."""


def _equal(value: Any, expected: Any) -> bool:
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    if isinstance(value, int | float) and isinstance(expected, int | float):
        return float(value) == float(expected)
    return bool(value == expected)


def holds(condition: Compare | Scalar, value: Any) -> bool:
    """Whether `value` meets a condition (a plain value means equality)."""
    if isinstance(condition, Compare):
        return condition.holds(value)
    return value is not None and _equal(value, condition)


class WindowSpec(RuleModel):
    """A local-time window; `end` before `start` runs overnight (21:00–06:00)."""

    start: time = Field(description="HH:MM local time the window opens.")
    end: time = Field(description="HH:MM local time it closes (exclusive).")
    days: list[Day] = Field(
        default_factory=list,
        description="Days it may start on: mon…sun, holiday, workday (empty: every day).",
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hh_mm(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a time of day HH:MM (00:00–23:59)")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("start equals end; leave `windows` out to match all day")
        return self

    def window(self) -> Window:
        """The window for matching."""
        return Window(self.start, self.end, frozenset(self.days))


class WatchlistSpec(RuleModel):
    """Who must be covered by the source: at least one watch-list person passing all of these
    (persons are covered directly or through their household)."""

    categories: list[Category] = Field(
        default_factory=list, description="elder and/or child (empty: either)."
    )
    min_risk_level: int = Field(1, ge=1, le=4, description="Lowest risk level (1–4).")
    lives_alone: bool | None = Field(None, description="Must (true) or must not (false).")
    conditions: list[str] = Field(
        default_factory=list, description="Has at least one of these conditions (empty: any)."
    )


class Match(RuleModel):
    """What an entry must be for the rule to fire."""

    kind: Kind = Field(
        Kind.EVENT,
        description="event, sensor, status (edge online/offline), absence (no activity from "
        "a person's sensors) or health (a sensor offline or its battery low).",
    )
    types: list[str] = Field(
        default_factory=list,
        description="Event types, sensor types or `offline` (empty: any); for absence the "
        "sensor types whose readings are activity; for health sensor_offline or battery_low.",
    )
    phases: list[Phase] = Field(
        default_factory=lambda: [Phase.START, Phase.UPDATE],
        description="Event phases that raise or update (start, update); `end` only ever ends.",
    )
    zone_tags: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]] = Field(
        default_factory=list, description="The event's zone carries at least one (empty: any)."
    )
    min_confidence: float = Field(0.0, ge=0, le=1, description="Lowest event confidence.")
    min_duration_s: float = Field(
        0.0, ge=0, description="Shortest episode so far (observed_at − started_at)."
    )
    hold_s: float = Field(
        0.0,
        ge=0,
        description="The condition must last this long (no `end` or `online`) before the alert "
        "is raised: `camera_offline` or edge `offline` for N minutes.",
    )
    windows: list[WindowSpec] = Field(
        default_factory=list, description="Local-time windows (empty: any time)."
    )
    attributes: dict[str, Condition] = Field(
        default_factory=dict, description="Conditions on event/reading attributes."
    )
    value: Condition | None = Field(
        None, description="Sensor value condition (absence: the value that is activity)."
    )
    battery_pct: Compare | None = Field(
        None, description="Sensor battery condition (health battery_low: when it is low)."
    )
    silent_s: float = Field(
        0.0,
        ge=0,
        description="absence: how long without activity raises the alert (default: the "
        "whole window).",
    )
    cameras: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]] = Field(
        default_factory=list,
        description="absence: zone tags (`home`) of the covering cameras' inactivity zones: "
        "someone seen there is activity, and no alert is raised while a camera sees someone.",
    )
    sensor_types: list[SensorType] = Field(
        default_factory=list, description="health: the sensor kinds watched (empty: all)."
    )
    report_interval_s: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(REPORT_INTERVALS_S),
        description="health sensor_offline: a sensor silent longer than its kind's interval "
        "(`default`: the others) is offline.",
    )
    battery_ok_pct: float = Field(
        50.0,
        ge=0,
        le=100,
        description="health battery_low: a reading at or above this ends the episode (the "
        "battery was replaced).",
    )
    watchlist: WatchlistSpec | None = Field(
        None, description="Watch-list persons the source must cover (absent: no requirement)."
    )

    @field_validator("types")
    @classmethod
    def _known_types(cls, types: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("kind", Kind.EVENT)
        known = KIND_TYPES[kind]
        unknown = [t for t in types if t not in known]
        if unknown:
            raise ValueError(
                f"unknown {kind.value} type(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return types

    @field_validator("report_interval_s")
    @classmethod
    def _interval_kinds(cls, intervals: dict[str, float]) -> dict[str, float]:
        known = {t.value for t in SensorType} | {"default"}
        unknown = sorted(set(intervals) - known)
        if unknown:
            raise ValueError(
                f"unknown sensor type(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return {**REPORT_INTERVALS_S, **intervals}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if Phase.END in self.phases or not self.phases:
            raise ValueError("phases must be start and/or update (an `end` never raises alerts)")
        given = {
            name
            for name, spec in type(self).model_fields.items()
            if getattr(self, name) != spec.get_default(call_default_factory=True)
        }
        stray = sorted(given - KIND_KEYS[self.kind] - COMMON_KEYS)
        if "hold_s" in stray and self.kind is Kind.SENSOR:
            raise ValueError(
                "hold_s needs an episode that ends (kind: event or status); for a sensor that "
                "stays silent use kind: absence"
            )
        if {"value", "battery_pct"} & set(stray):
            raise ValueError(
                "value and battery_pct apply to kind: sensor (value also to absence, "
                "battery_pct to health)"
            )
        if stray:
            raise ValueError(f"{', '.join(stray)}: not for kind: {self.kind.value}")
        if self.kind is Kind.ABSENCE:
            self._check_absence()
        if self.kind is Kind.HEALTH and len(self.types) != 1:
            raise ValueError("a health rule names one type: sensor_offline or battery_low")
        if self.kind is Kind.HEALTH:
            health = Health(self.types[0])
            wrong = {
                Health.SENSOR_OFFLINE: {"battery_pct", "battery_ok_pct"},
                Health.BATTERY_LOW: {"report_interval_s"},
            }[health] & given
            if wrong:
                raise ValueError(f"{', '.join(sorted(wrong))}: not for {health.value}")
        return self

    def _check_absence(self) -> None:
        if not self.types:
            raise ValueError("an absence rule names the sensor types whose readings are activity")
        if not self.windows and not self.silent_s:
            raise ValueError("an absence rule needs silent_s, windows, or both")
        for spec in self.windows:
            window = spec.window()
            nominal = (
                datetime.combine(date.min, window.end) - datetime.combine(date.min, window.start)
            ).total_seconds() % 86400
            if self.silent_s > nominal:
                raise ValueError(
                    f"silent_s {self.silent_s:g} is longer than the window "
                    f"{spec.start:%H:%M}-{spec.end:%H:%M} ({nominal:g} s)"
                )


COMMON_KEYS = frozenset({"kind", "types", "watchlist", "phases"})
KIND_KEYS: dict[Kind, frozenset[str]] = {
    Kind.EVENT: frozenset(
        {"zone_tags", "min_confidence", "min_duration_s", "hold_s", "windows", "attributes"}
    ),
    Kind.SENSOR: frozenset({"windows", "attributes", "value", "battery_pct"}),
    Kind.STATUS: frozenset({"hold_s", "windows", "attributes"}),
    Kind.ABSENCE: frozenset({"windows", "value", "silent_s", "cameras"}),
    Kind.HEALTH: frozenset(
        {"sensor_types", "report_interval_s", "battery_pct", "battery_ok_pct", "attributes"}
    ),
}
"""The match keys each kind takes besides kind, types, watchlist and phases."""

RECIPIENT = re.compile(
    r"^(guardians|(grid_worker|duty_officer|police|supervisor)(@(grid|village|town|county))?)$"
)


def _recipient(value: str) -> str:
    if not RECIPIENT.fullmatch(value):
        raise ValueError(
            f"unknown recipient {value!r}: use guardians, grid_worker, duty_officer, police or "
            "supervisor, "
            "a staff role optionally at a level (duty_officer@town; levels: grid, village, "
            "town, county)"
        )
    return value


Recipient = Annotated[
    str,
    AfterValidator(_recipient),
    Field(
        description="guardians, or a staff role (grid_worker, duty_officer, police, supervisor) "
        "optionally "
        "at a level (@grid, @village, @town, @county; default: the nearest area that has one)."
    ),
]


class Step(RuleModel):
    """One rung of the escalation ladder."""

    after_s: float = Field(gt=0, description="Seconds after the alert was raised.")
    notify: list[Recipient] = Field(min_length=1, description="Who is notified at this step.")


class AlertSpec(RuleModel):
    """What the rule raises."""

    severity: Severity
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Alert title; may use {persons}, {address}, {site}, {source}, {zone}, {type}."
    )
    notify: list[Recipient] = Field(
        default_factory=list, description="Notified when the alert is raised."
    )
    group_by: list[GroupBy] = Field(
        default_factory=lambda: [GroupBy.SITE, GroupBy.SOURCE],
        description="What makes repeated events one alert (besides the rule).",
    )
    cooldown_s: float = Field(
        600.0,
        ge=0,
        description="Events of the same group within this many seconds of the last one update "
        "the open alert instead of raising a new one.",
    )
    escalation: list[Step] = Field(
        default_factory=list, description="Steps while nobody acknowledges, in time order."
    )
    repeat_last_s: float | None = Field(
        None,
        gt=0,
        description="While nobody acknowledges, the ladder's last step notifies again every "
        "this many seconds after it, `repeat_last_times` times (default: no repeats).",
    )
    repeat_last_times: int = Field(
        3, ge=1, le=20, description="How often the last step repeats (with `repeat_last_s`)."
    )
    arrival_s: float | None = Field(
        None,
        ge=0,
        description="Seconds after the alert was raised by which someone must be on site "
        "(已到场), else `arrival_notify` is told (default: `response.arrival_s` by severity; "
        "0: no arrival timer).",
    )
    arrival_notify: list[Recipient] | None = Field(
        None,
        min_length=1,
        description="Told when nobody is on site in time (default: `response.arrival_notify`).",
    )

    @field_validator("title")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"title is not a valid template: {exc}") from None
        unknown = names - TITLE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {', '.join(sorted(unknown))} in title; "
                f"known: {', '.join(sorted(TITLE_FIELDS))}"
            )
        return value

    @field_validator("escalation")
    @classmethod
    def _ordered(cls, steps: list[Step]) -> list[Step]:
        times = [step.after_s for step in steps]
        if times != sorted(set(times)):
            raise ValueError("escalation steps must have strictly increasing after_s")
        return steps

    @model_validator(mode="after")
    def _repeats_a_step(self) -> "AlertSpec":
        if self.repeat_last_s is not None and not self.escalation:
            raise ValueError("repeat_last_s repeats the last escalation step: add escalation")
        return self


class Rule(RuleModel):
    """One rule: when an entry matches, raise (or update) an alert."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    description: str = ""
    enabled: bool = True
    match: Match
    alert: AlertSpec

    @model_validator(mode="after")
    def _recipients_have_persons(self) -> Self:
        uses_guardians = (
            "guardians" in self.alert.notify
            or "guardians" in (self.alert.arrival_notify or ())
            or any("guardians" in step.notify for step in self.alert.escalation)
        )
        if GroupBy.PERSONS in self.alert.group_by and self.match.watchlist is None:
            raise ValueError("group_by persons needs a watchlist condition")
        if uses_guardians and self.match.kind is Kind.STATUS:
            raise ValueError("guardians cannot be notified about an edge (no persons)")
        return self


ARRIVAL_S = {Severity.CRITICAL: 180.0, Severity.HIGH: 300.0}
"""Someone on site within 3 minutes of a critical alert, 5 of a high one (the 1-3-5 circle)."""
DUE_S = {
    Severity.CRITICAL: 1800.0,
    Severity.HIGH: 7200.0,
    Severity.MEDIUM: 86400.0,
    Severity.LOW: 259200.0,
}
"""A dispatched case resolved within 30 minutes (critical), 2 hours, 1 day or 3 days (low)."""


class ResponseSpec(RuleModel):
    """The response circle's defaults for every rule: how soon someone must be on site, by when
    a dispatched case is due, how often an acknowledged critical alert is notified again."""

    arrival_s: dict[Severity, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(ARRIVAL_S),
        description="Seconds after an alert of each severity was raised by which someone must "
        "be on site (已到场); severities not named have no arrival timer.",
    )
    arrival_notify: list[Recipient] = Field(
        default_factory=lambda: ["duty_officer"],
        min_length=1,
        description="Told when nobody is on site in time.",
    )

    due_s: dict[Severity, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: dict(DUE_S),
        description="Seconds after dispatch (派单) by which a case of each severity is to be "
        "resolved; past it the case is overdue (督办) and `overdue_notify` is told; severities "
        "not named have no due time.",
    )
    overdue_notify: list[Recipient] = Field(
        default_factory=lambda: ["supervisor"],
        min_length=1,
        description="Told when a dispatched case is past its due time.",
    )
    remind_s: dict[Severity, Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: {Severity.CRITICAL: 600.0},
        description="An alert of each severity acknowledged but not resolved is notified again "
        "to the staff told so far every this many seconds after its acknowledgement.",
    )

    def arrival(self, spec: AlertSpec, severity: Severity) -> float | None:
        """Seconds by which someone must be on site for an alert of `spec` at `severity`
        (None: no arrival timer)."""
        within = spec.arrival_s if spec.arrival_s is not None else self.arrival_s.get(severity)
        return within or None

    def arrival_recipients(self, spec: AlertSpec) -> list[str]:
        """Who is told when nobody is on site in time for alerts of `spec`."""
        return list(spec.arrival_notify or self.arrival_notify)


class RuleSet(RuleModel):
    """A whole rule file."""

    version: Literal[1] = 1
    response: ResponseSpec = Field(
        default_factory=ResponseSpec, description="The response circle's defaults."
    )
    holidays: list[date] = Field(default_factory=list, description="Public holidays (rest).")
    workdays: list[date] = Field(
        default_factory=list, description="Weekend days worked to make up for holidays (调休)."
    )
    rules: list[Rule]

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        return rules

    def enabled(self) -> list[Rule]:
        """The rules in effect."""
        return [rule for rule in self.rules if rule.enabled]

    def by_id(self, rule_id: str) -> Rule | None:
        """The enabled rule with this id."""
        return next((rule for rule in self.enabled() if rule.id == rule_id), None)

    def calendar(self, zone: str) -> Calendar:
        """The calendar the windows are read in."""
        return Calendar(ZoneInfo(zone), frozenset(self.holidays), frozenset(self.workdays))


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 base-60 integers, so 21:00 stays the string '21:00'."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Validate rule-file text; RulesError lists every problem with line, rule and key."""
    try:
        data = yaml.load(text, Loader=_Loader)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise RulesError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RulesError(f"{source} must hold a mapping with a `rules` list")
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error, data, root, source) for error in exc.errors()]
        raise RulesError(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems)) from None


def load_rules(path: Path) -> RuleSet:
    """Read and validate a rule file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(f"rule file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"rule file {path} cannot be read: {exc}") from None
    return parse_rules(text, str(path))


def _describe(error: Any, data: Any, root: yaml.Node | None, source: str) -> str:
    loc = [part for part in error["loc"] if not _is_union_tag(part)]
    where = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            where += f"[{part}]"
            if index == 1 and loc[0] == "rules" and isinstance(data.get("rules"), list):
                rule = data["rules"][part] if part < len(data["rules"]) else None
                if isinstance(rule, dict) and "id" in rule:
                    where += f" ({rule['id']})"
        else:
            where += f".{part}" if where else str(part)
    line = _line(root, loc)
    message = error["msg"].removeprefix("Value error, ")
    got = "" if error["type"] in ("missing", "value_error") else f" (got {error['input']!r})"
    position = f"{source}:{line}" if line else source
    return f"  {position}: {where or '(top level)'}: {message}{got}"


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the union member's name into the location; it says nothing to a user.
    return isinstance(part, str) and part.startswith(("condition:", "function-"))


def _line(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """1-based line of the deepest node along `loc` that exists in the YAML."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        node = child
    if node is not None:
        line = node.start_mark.line + 1
    return line
