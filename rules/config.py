"""Settings of the rules engine (`rules:` and `database:` sections of the config file)."""

import socket
from pathlib import Path

from pydantic import Field

from records.settings import DatabaseSettings
from shouwang.redis_keys import (
    ALERTS_STREAM,
    DEADLETTER_STREAM,
    EVENTS_STREAM,
    NOTIFICATIONS_STREAM,
    RULES_GROUP,
    RULES_PREFIX,
)
from shouwang.settings import GroupStart, Section, ServiceSettings, TimeZone


class RulesSection(Section):
    """How the rules engine reads the events stream, decides, and writes its outputs."""

    file: Path = Field(Path("configs/rules.yaml"), description="The rule set (YAML).")
    timezone: TimeZone = Field(
        "Asia/Shanghai", description="Time zone of the rules' time windows (IANA name)."
    )
    stream: str = Field(EVENTS_STREAM, description="Redis Stream of events to consume.")
    group: str = Field(
        RULES_GROUP, description="Consumer group; every rules worker of a deployment joins it."
    )
    group_start: GroupStart = Field(
        "$",
        description="Where a newly created group starts: `$` (only new entries) or `0` (the "
        "whole stream, including old events). A partition's stream is read from its start "
        "always: it appears when ingest first writes to it.",
    )
    consumer: str = Field(
        default_factory=socket.gethostname,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="This worker's consumer name in the group; unique per worker and stable "
        "across restarts (default: the host name).",
    )
    batch_size: int = Field(100, ge=1, le=10_000, description="Most entries read at once.")
    block_ms: int = Field(
        1000, ge=10, le=60_000, description="How long a read waits for new entries."
    )
    max_failures: int = Field(
        5,
        ge=1,
        le=100,
        description="An entry whose processing fails this many times (or that is delivered "
        "this many times without an acknowledgement) goes to the dead-letter stream.",
    )
    reclaim_idle_ms: int = Field(
        60_000,
        ge=0,
        description="Entries pending this long (their worker died, or processing failed) are "
        "claimed again with XAUTOCLAIM.",
    )
    reclaim_interval_s: float = Field(
        5.0, ge=0, description="How often a worker looks for entries to reclaim."
    )
    timer_lease_ms: int = Field(
        30_000,
        ge=100,
        description="How long a claimed escalation or hold timer is reserved for the worker "
        "handling it; if that worker dies, another takes the timer after this.",
    )
    lease_ttl_s: float = Field(
        15.0,
        ge=1,
        le=600,
        description="With partitions: how long a worker's partitions stay its own without it "
        "renewing its lease (every third of this); a dead worker's partitions move to the "
        "others after it.",
    )
    coverage_cache_s: float = Field(
        30.0,
        ge=0,
        description="How long who-a-camera-watches lookups are cached (0: always ask the "
        "database). Watch-list changes take effect within this time.",
    )
    snapshot_wait_s: float = Field(
        2 * 24 * 3600,
        gt=0,
        description="How long a stored snapshot waits for its event (they may arrive in either "
        "order, after an outage much later); older snapshot records are pruned hourly.",
    )
    end_wait_s: float = Field(
        3600.0,
        gt=0,
        description="How long an episode's end decided before its start (out of order) is "
        "remembered in Redis for the alert the start raises; ends whose start comes later are "
        "lost to that alert.",
    )
    deadletter_stream: str = Field(
        DEADLETTER_STREAM, description="Where entries that keep failing go, with the error."
    )
    alerts_stream: str = Field(
        ALERTS_STREAM, description="Stream of alert changes (the API's live feed)."
    )
    notifications_stream: str = Field(
        NOTIFICATIONS_STREAM, description="Stream of notification jobs (the dispatcher's input)."
    )
    output_maxlen: int = Field(
        100_000, ge=1000, description="Approximate cap on each output stream's length."
    )
    key_prefix: str = Field(
        RULES_PREFIX, description="Prefix of the engine's Redis keys (timers, failure counts)."
    )
    metrics_port: int = Field(
        9111,
        ge=0,
        le=65535,
        description="Prometheus metrics port of `shouwang rules run`; 0 turns the endpoint off.",
    )


class RulesSettings(ServiceSettings):
    """Everything `shouwang rules run` reads."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    rules: RulesSection = Field(default_factory=RulesSection)
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
