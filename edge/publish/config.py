"""Settings of the edge publisher: the local store-and-forward queue and replay pacing."""

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from shouwang.settings import Section


class PublisherSettings(Section):
    """How the edge agent queues events locally and delivers them to the broker."""

    queue_path: Path = Field(
        Path("var/edge/outbox.sqlite3"),
        title="Queue file",
        description="SQLite file of the store-and-forward queue. Events wait here until the "
        "broker acknowledges them; keep it on persistent storage, not tmpfs.",
    )
    max_queued_messages: int = Field(
        50_000,
        ge=10,
        le=10_000_000,
        title="Queue capacity (messages)",
        description="Most events, snapshots and clips kept while the broker is unreachable. When "
        "full, clips go first, then snapshots, then the oldest `update` events, then the oldest "
        "other events; every eviction is counted and logged.",
    )
    max_queued_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024 * 1024,
        title="Queue capacity (bytes)",
        description="Most payload bytes kept in the queue (snapshots and clips are large); the "
        "same eviction order applies when it is reached.",
    )
    replay_rate: float = Field(
        200.0,
        gt=0,
        le=100_000,
        title="Replay rate",
        description="Most messages per second sent to the broker (token bucket), so a backlog "
        "is replayed at a pace the broker and ingest can absorb.",
    )
    replay_burst: int = Field(
        20,
        ge=1,
        le=10_000,
        title="Replay burst",
        description="Messages that may be sent at once before `replay_rate` applies.",
    )
    replay_jitter_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        title="Replay start jitter",
        description="After each connect, wait a random 0..N seconds before replaying a backlog, "
        "so thousands of boxes reconnecting together do not all replay at once. 0 disables it.",
    )
    max_inflight: int = Field(
        32,
        ge=1,
        le=1000,
        title="Max inflight",
        description="Most messages sent but not yet acknowledged (QoS 1 PUBACK) at any time.",
    )
    heartbeat_interval_s: float = Field(
        10.0,
        gt=0,
        le=3600,
        title="Heartbeat interval",
        description="Seconds between heartbeats on the edge's `heartbeat` topic.",
    )
    mqtt_version: Literal["5", "3.1.1"] = Field(
        "5",
        title="MQTT protocol version",
        description="`5` (default) or `3.1.1` for brokers without MQTT 5. Only MQTT 5 tells the "
        "edge that the broker had no subscriber for an event (then it is kept and sent again); "
        "with 3.1.1 such an event is lost.",
    )
    client_id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        title="MQTT client id",
        description="Stable client id of this edge; default `shouwang-edge-<site>-<edge>`.",
    )
    reconnect_min_s: int = Field(
        1,
        ge=1,
        le=600,
        title="Reconnect back-off minimum",
        description="First reconnect delay; also the first wait before sending again events "
        "the broker had no subscriber for.",
    )
    reconnect_max_s: int = Field(
        60,
        ge=1,
        le=3600,
        title="Reconnect back-off maximum",
        description="Longest delay between reconnect attempts (the delay doubles up to this), "
        "and between attempts to send events the broker had no subscriber for.",
    )

    @model_validator(mode="after")
    def _backoff_ordered(self) -> "PublisherSettings":
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError(
                f"reconnect_max_s ({self.reconnect_max_s}) must not be smaller than "
                f"reconnect_min_s ({self.reconnect_min_s})"
            )
        return self
