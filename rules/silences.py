"""Silence timers in Redis: for each (rule, subject) — a watch-list person for an absence rule, a
sensor for the sensor-offline rule — when its last activity was, which alerts its silence has
raised, and a timer due when the silence will have lasted long enough. Redis keeps them across
restarts; every change is one Lua script, so workers deciding readings and firing timers at the
same time agree (see docs/sensors.md for the order of things).

State (hash `silences:state`, one JSON value per member `<rule>|<subject>`): `anchor` (ms of the
last activity, or of the first reading when watching began), `key` (the entry that set it),
`open` (episodes raised and not yet ended), `ended` (what the anchor's entry ended: a retry of
that entry ends them again), `fired` (ms of the last firing since the anchor), `cameras`
(`<camera>#<zone>` → `quiet` or `seen`), and what the alert needs (`site`, `source`, …). The
timers are the sorted set `silences`, scored by due ms.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from records.timers import TimerSet
from shouwang.redis_client import run_scripts
from shouwang.redis_keys import rules_key

MAX_OPEN = 10
"""Episodes of one member kept open at most (a person silent for weeks): the oldest is dropped
without an end."""

# KEYS[1] state hash, KEYS[2] timers. ARGV: member, at ms, entry key, activity ('1'/'0'), due ms
# ('' none), context JSON, camera op ('', 'set', 'drop'), camera key, camera state.
# A new member starts watching at `at`; an activity later than the anchor moves it there, ends
# the open episodes (returned) and sets the timer; the same entry again returns what it ended.
NOTE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local at = tonumber(ARGV[2])
local s
local ended = {}
local moved = false
if raw then
  s = cjson.decode(raw)
  if ARGV[4] == '1' then
    if at > s.anchor then
      ended = s.open
      s.anchor = at
      s.key = ARGV[3]
      s.open = {}
      s.ended = ended
      s.fired = nil
      for k, v in pairs(cjson.decode(ARGV[6])) do s[k] = v end
      moved = true
    elseif at == s.anchor and s.key == ARGV[3] then
      ended = s.ended
    end
  end
else
  s = cjson.decode(ARGV[6])
  s.anchor = at
  s.key = ARGV[3]
  s.open = {}
  s.ended = {}
  s.cameras = {}
  moved = true
end
if ARGV[7] == 'set' then
  s.cameras[ARGV[8]] = ARGV[9]
elseif ARGV[7] == 'drop' then
  for k, _ in pairs(s.cameras) do
    if string.sub(k, 1, #ARGV[8]) == ARGV[8] then s.cameras[k] = nil end
  end
end
if moved or ARGV[7] ~= '' then
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(s))
end
if moved then
  if ARGV[5] == '' then
    redis.call('ZREM', KEYS[2], ARGV[1])
  else
    redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
  end
end
return cjson.encode(ended)
"""

# KEYS[1] state hash, KEYS[2] timers. ARGV: member, anchor ms seen, episode ('' none), fired ms,
# next due ms ('' none), max open. If the anchor is still the one seen (no activity meanwhile):
# note the episode as open (once) and set the timer to the next firing. Returns 1, else 0.
FIRED = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local s = cjson.decode(raw)
if s.anchor ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] ~= '' then
  local present = false
  for _, e in ipairs(s.open) do if e == ARGV[3] then present = true end end
  if not present then
    table.insert(s.open, ARGV[3])
    if #s.open > tonumber(ARGV[6]) then table.remove(s.open, 1) end
  end
  s.fired = tonumber(ARGV[4])
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(s))
end
if ARGV[5] == '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Note:
    """A reading or camera event for one member: activity (moves the anchor) or a sign of
    watching (starts a member that has none), and optionally a camera's state."""

    member: str
    at_ms: int
    key: str
    activity: bool
    due_ms: int | None
    """When the silence will be due if this is the anchor."""
    context: dict[str, Any]
    camera: tuple[str, str, str] | None = None
    """(op, key, state): `set` a camera zone's state, or `drop` every zone of a camera."""


@dataclass(frozen=True, slots=True)
class SilenceState:
    """A member's state."""

    anchor_ms: int
    key: str
    fired_ms: int | None
    open: tuple[str, ...]
    cameras: dict[str, str]
    context: dict[str, Any] = field(default_factory=dict)


def ms(moment: datetime) -> int:
    """A time as Unix milliseconds."""
    return int(moment.timestamp() * 1000)


def at_ms(value: int) -> datetime:
    """Unix milliseconds as a UTC time."""
    return datetime.fromtimestamp(value / 1000, UTC)


def _as_list(value: Any) -> list[Any]:
    # Redis's Lua writes an empty array as `{}`.
    return list(value) if isinstance(value, list) else []


def member_of(rule_id: str, subject: str) -> str:
    """The member of a rule's subject (`person:<id>`, `sensor:<site>/<device>`)."""
    return f"{rule_id}|{subject}"


def episode_of(member: str, due_ms: int) -> str:
    """The episode a member's silence opens when it fires at `due_ms`."""
    return f"silence:{member}:{due_ms}"


def due_of_episode(episode: str) -> int:
    """When an episode's silence fired."""
    return int(episode.rsplit(":", 1)[1])


class Silences:
    """The members' states and timers."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.timers = TimerSet(client, rules_key("silences", prefix))
        self.state_key = rules_key("silences:state", prefix)
        self._note = client.register_script(NOTE)
        self._fired = client.register_script(FIRED)

    def note(self, notes: list[Note]) -> list[list[str]]:
        """Apply notes in one round trip; for each, the episodes its activity ended."""
        if not notes:
            return []
        keys = [self.state_key, self.timers.key]
        calls = []
        for note in notes:
            op, camera, state = note.camera or ("", "", "")
            args = [
                note.member,
                note.at_ms,
                note.key,
                "1" if note.activity else "0",
                "" if note.due_ms is None else note.due_ms,
                json.dumps(note.context, ensure_ascii=False),
                op,
                camera,
                state,
            ]
            calls.append((keys, args))
        results = run_scripts(self.client, self._note, calls)
        return [[str(e) for e in _as_list(json.loads(raw))] for raw in results]

    def state(self, member: str) -> SilenceState | None:
        """A member's state, if it has one."""
        raw = self.client.hget(self.state_key, member)
        if raw is None:
            return None
        data = json.loads(raw)
        kept = ("anchor", "key", "fired", "open", "ended", "cameras")
        return SilenceState(
            anchor_ms=int(data["anchor"]),
            key=str(data["key"]),
            fired_ms=int(data["fired"]) if data.get("fired") is not None else None,
            open=tuple(str(e) for e in _as_list(data.get("open"))),
            cameras=dict(data["cameras"]) if isinstance(data.get("cameras"), dict) else {},
            context={k: v for k, v in data.items() if k not in kept},
        )

    def claim_due(self, now_ms: int, lease_ms: int, limit: int = 100) -> list[tuple[str, int]]:
        """Members due by `now_ms`, leased to the caller (see `records.timers.TimerSet`)."""
        return self.timers.claim_due(now_ms, lease_ms, limit)

    def has_due(self, now_ms: int) -> bool:
        """Whether any member is due by `now_ms` (one round trip)."""
        return bool(self.client.zcount(self.timers.key, "-inf", now_ms))

    def fired(
        self, member: str, anchor_ms: int, episode: str | None, fired_ms: int, next_ms: int | None
    ) -> bool:
        """Note that the member's silence fired (`episode`, or nothing raised) and set its next
        timer, unless an activity moved the anchor meanwhile; whether it was noted."""
        result = self._fired(
            keys=[self.state_key, self.timers.key],
            args=[
                member,
                anchor_ms,
                episode or "",
                fired_ms,
                "" if next_ms is None else next_ms,
                MAX_OPEN,
            ],
        )
        return bool(result)

    def forget(self, member: str) -> None:
        """Drop a member (its rule is gone)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hdel(self.state_key, member)
        pipe.zrem(self.timers.key, member)
        pipe.execute()
