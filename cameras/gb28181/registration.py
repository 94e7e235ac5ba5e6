"""A registered device as the gateway remembers it (kept in Redis, shared by its processes)."""

import json
from dataclasses import asdict, dataclass, field
from typing import Self


@dataclass(frozen=True, slots=True)
class Registration:
    """One device's registration, liveness and channels."""

    device_id: str
    site: str
    transport: str
    host: str
    port: int
    """Where the device's requests came from: where the gateway's requests go."""
    call_id: str
    expires_at: float
    session_id: str
    """New for each time the device comes online (the edge-status session)."""
    connected_at: float
    last_seen: float
    """Last REGISTER or keepalive."""
    online: bool = True
    gb_version: str = ""
    charset: str = "GB2312"
    channels: dict[str, str] = field(default_factory=dict)
    """Channel code → name, from the catalog."""
    faulty: tuple[str, ...] = ()
    """Channels the last keepalive reported as failed."""

    def deadline(self, keepalive_s: float, misses: int) -> float:
        """When the device is offline unless heard from: expiry or missed keepalives."""
        return min(self.expires_at, self.last_seen + keepalive_s * misses)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Self:
        values = json.loads(text)
        values["faulty"] = tuple(values.get("faulty", ()))
        return cls(**values)
