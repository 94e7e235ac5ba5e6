"""One MQTT connection of the edge agent and the retained status messages it announces."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from shouwang.contracts import SCHEMA_VERSION, EdgeState, EdgeStatus


@dataclass(frozen=True, slots=True)
class Session:
    """A connection attempt: a fresh id and the time it was made, shared by its online status
    and its last will so consumers can tell sessions apart."""

    site: str
    edge: str
    session_id: str
    connected_at: datetime

    @classmethod
    def new(cls, site: str, edge: str) -> "Session":
        """A session with a new UUID, connected now."""
        return cls(site, edge, str(uuid.uuid4()), datetime.now(UTC))

    def status(self, state: EdgeState, reason: str | None = None) -> EdgeStatus:
        """The status message this session publishes (or leaves as its will)."""
        return EdgeStatus(
            schema_version=SCHEMA_VERSION,
            site=self.site,
            edge=self.edge,
            state=state,
            session_id=self.session_id,
            connected_at=self.connected_at,
            reason=reason,
        )

    def status_payload(self, state: EdgeState, reason: str | None = None) -> bytes:
        """`status()` as wire JSON."""
        return self.status(state, reason).model_dump_json().encode()
