"""Settings of the ingest service (section `ingest:` of the config file)."""

import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from shouwang.contracts import (
    DEFAULT_MAX_CLIP_BYTES,
    DEFAULT_MAX_CLIP_PAYLOAD_BYTES,
    DEFAULT_MAX_PAYLOAD_BYTES,
)
from shouwang.redis_keys import DEADLETTER_STREAM, EVENTS_STREAM
from shouwang.settings import Section, ServiceSettings


class JetStreamSection(Section):
    """Where ingest reads the MQTT front of a NATS cluster directly (`source: jetstream`)."""

    servers: list[str] = Field(
        default_factory=lambda: ["nats://127.0.0.1:4222"],
        description="NATS servers of the cluster (any that answers; ingest fails over).",
    )
    user: str | None = Field(None, description="NATS user name, if the servers require one.")
    password: SecretStr | None = Field(None, description="Password for `user`.")
    stream: str = Field(
        "$MQTT_msgs",
        description="The JetStream stream NATS keeps its MQTT QoS 1 messages in (replicated "
        "over the cluster).",
    )
    durable: str = Field(
        "shouwang-ingest",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The durable consumer every ingest worker shares: each message goes to one "
        "of them, and comes back if it is not acknowledged within `ack_wait_s`.",
    )
    ack_wait_s: float = Field(
        60.0, ge=5, le=3600, description="How long a worker may hold a message unacknowledged."
    )
    max_ack_pending: int = Field(
        10_000,
        ge=100,
        description="Messages handed out and not yet acknowledged, over every worker: the "
        "back-pressure while Redis is slow or away.",
    )


class IngestSection(Section):
    """How ingest subscribes, validates and writes."""

    source: Literal["mqtt", "jetstream"] = Field(
        "mqtt",
        description="Where messages come from: an MQTT subscription (Mosquitto, EMQX…) or, with "
        "NATS as the broker, its JetStream stream read by a durable consumer (`jetstream`).",
    )
    jetstream: JetStreamSection = Field(default_factory=JetStreamSection)

    worker_id: str = Field(
        default_factory=socket.gethostname,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="Names this worker's persistent MQTT session (client id "
        "`shouwang-ingest-<worker_id>`); must be unique per worker and stable across restarts.",
    )
    share_group: str | None = Field(
        "ingest",
        description="Shared-subscription group (`$share/<group>/…`) so several workers split the "
        "load. Set to null for brokers without shared subscriptions (the embedded amqtt).",
    )
    topic_filter: str = Field(
        "shouwang/#",
        description="What to subscribe to. The whole root by default, so a message under a wrong "
        "topic or version is dead-lettered with its reason instead of silently missed.",
    )
    protocol: Literal["5", "3.1.1"] = Field(
        "5", description="MQTT protocol version; 3.1.1 for brokers that lack 5 (amqtt)."
    )
    session_expiry_s: int = Field(
        7 * 24 * 3600,
        ge=0,
        description="How long the broker keeps this worker's session and queues its messages "
        "while it is away (MQTT 5; 3.1.1 sessions never expire).",
    )
    receive_maximum: int = Field(
        1000,
        ge=1,
        le=65535,
        description="Unacknowledged QoS 1 messages the broker may send before waiting for acks "
        "(MQTT 5 flow control). Messages are acknowledged only after Redis accepted them.",
    )
    stream: str = Field(EVENTS_STREAM, description="Redis Stream that accepted messages go to.")
    stream_maxlen: int = Field(
        1_000_000, ge=1000, description="Approximate cap on the stream's length (XADD MAXLEN ~)."
    )
    deadletter_stream: str = Field(
        DEADLETTER_STREAM, description="Redis Stream for rejected messages, with the reason."
    )
    deadletter_maxlen: int = Field(100_000, ge=100, description="Approximate cap on dead letters.")
    dedup_ttl_s: int = Field(
        48 * 3600,
        ge=24 * 3600,
        description="How long an idempotency key is remembered (at least 24 h).",
    )
    max_payload_bytes: int = Field(
        DEFAULT_MAX_PAYLOAD_BYTES, ge=1024, description="Larger payloads are dead-lettered."
    )
    max_snapshot_bytes: int = Field(
        180 * 1024, ge=1024, description="Largest JPEG accepted as a snapshot (decoded size)."
    )
    max_clip_payload_bytes: int = Field(
        DEFAULT_MAX_CLIP_PAYLOAD_BYTES,
        ge=1024,
        description="Larger clip messages (`…/clip`) are dead-lettered. Keep it within the "
        "broker's packet limit (Mosquitto `max_packet_size`, NATS `max_payload`).",
    )
    max_clip_bytes: int = Field(
        DEFAULT_MAX_CLIP_BYTES,
        ge=1024,
        description="Largest MP4 accepted as an evidence clip (decoded size); the edge's "
        "`clip.max_bytes` should not exceed it.",
    )
    snapshot_dir: Path = Field(
        Path("var/snapshots"),
        description="Directory snapshots, and the clips beside them, are stored in.",
    )
    batch_size: int = Field(500, ge=1, le=10_000, description="Most messages per Redis round trip.")
    batch_wait_ms: float = Field(
        2.0, ge=0, le=1000, description="How long to wait for a batch to fill before writing."
    )
    metrics_port: int = Field(
        9108, ge=0, le=65535, description="Prometheus metrics port; 0 turns the endpoint off."
    )
    broker_stats: bool = Field(
        True, description="Subscribe to the broker's $SYS counters (messages dropped, stored)."
    )
    state_interval_s: float = Field(
        5.0, gt=0, description="How often the worker writes its counters to Redis for `health`."
    )

    @model_validator(mode="after")
    def _media_fits_payload(self) -> "IngestSection":
        # base64 grows data by 4/3; a file that can never fit a payload is a config mistake.
        for name, limit in (
            ("max_snapshot_bytes", "max_payload_bytes"),
            ("max_clip_bytes", "max_clip_payload_bytes"),
        ):
            size, payload = getattr(self, name), getattr(self, limit)
            if size * 4 // 3 > payload:
                raise ValueError(
                    f"{name} {size} cannot fit in {limit} {payload} once base64-encoded "
                    "(needs ≤ 3/4 of it)"
                )
        return self


class IngestSettings(ServiceSettings):
    """Everything `shouwang ingest` reads."""

    ingest: IngestSection = Field(default_factory=IngestSection)
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
