"""Settings of the sensor bridge (`bridge:` section of the config file)."""

import re
import socket
from typing import Literal

from pydantic import Field, field_validator

from shouwang.redis_keys import DEADLETTER_STREAM
from shouwang.settings import Section, ServiceSettings

TOPIC_LEVELS = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"


class BridgeSection(Section):
    """Where the bridge reads third-party devices from and how it hands their readings on."""

    client_id: str = Field(
        default_factory=lambda: f"shouwang-bridge-{socket.gethostname()}",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="MQTT client id: names the bridge's persistent session; stable across "
        "restarts, one per bridge.",
    )
    zigbee2mqtt_topics: list[str] = Field(
        default_factory=lambda: ["zigbee2mqtt"],
        description="Base topics of the Zigbee2MQTT instances to read (their "
        "`mqtt.base_topic`); empty: none.",
    )
    homeassistant_topic: str | None = Field(
        None,
        pattern=TOPIC_LEVELS,
        description="Base topic of Home Assistant's MQTT Statestream (`mqtt_statestream."
        "base_topic`, e.g. `homeassistant`); null: not read.",
    )
    protocol: Literal["5", "3.1.1"] = Field(
        "5", description="MQTT protocol version; 3.1.1 for brokers that lack 5 (amqtt)."
    )
    session_expiry_s: int = Field(
        7 * 24 * 3600,
        ge=0,
        description="How long the broker keeps the bridge's session (and queues QoS 1 "
        "messages) while it is away.",
    )
    devices_refresh_s: float = Field(
        10.0, gt=0, description="How often the device table is checked for changes."
    )
    unassigned_report_s: float = Field(
        60.0,
        ge=0,
        description="A device nobody assigned (or whose messages are unreadable) is written to "
        "the unassigned list at most this often per reason (it is dead-lettered every time).",
    )
    batch_size: int = Field(200, ge=1, le=10_000, description="Most messages handled at once.")
    publish_timeout_s: float = Field(
        10.0, gt=0, description="How long to wait for the broker to acknowledge readings."
    )
    deadletter_stream: str = Field(
        DEADLETTER_STREAM, description="Redis Stream for messages that became no reading."
    )
    state_key: str = Field(
        "shouwang:bridge:last",
        description="Redis hash of the last value published per device and kind (tells a "
        "repeated report from a change across restarts).",
    )
    metrics_port: int = Field(
        9112, ge=0, le=65535, description="Prometheus metrics port; 0 turns the endpoint off."
    )

    @field_validator("zigbee2mqtt_topics")
    @classmethod
    def _bases(cls, bases: list[str]) -> list[str]:
        for base in bases:
            if not re.fullmatch(TOPIC_LEVELS, base) or base.startswith("shouwang"):
                raise ValueError(f"{base!r} is not a base topic like zigbee2mqtt")
        return bases


class BridgeSettings(ServiceSettings):
    """Everything `shouwang bridge run` reads (besides `database:`, for the device table)."""

    bridge: BridgeSection = Field(default_factory=BridgeSection)
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
