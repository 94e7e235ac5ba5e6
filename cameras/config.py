"""Settings of the camera-event gateways: `gb28181:`, `cameras:` (the GB/T 28181 device list)
and `camera_events:` (Hikvision and Dahua)."""

import re
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints, field_validator

from records.settings import DatabaseSettings
from shouwang.contracts import EventType
from shouwang.contracts.common import DisplayName, Identifier
from shouwang.redis_keys import DEADLETTER_STREAM
from shouwang.settings import Section, ServiceSettings, TimeZone

GbId = Annotated[str, StringConstraints(pattern=r"^[0-9]{20}$")]
"""A GB/T 28181 code: 20 decimal digits (annex E, rule A)."""


class DeviceEntry(Section):
    """A GB/T 28181 device (IPC, NVR) or one of its channels, and where it belongs."""

    id: GbId = Field(description="The 20-digit code the device registers with, or a channel's.")
    site: Identifier = Field(description="The site its events belong to.")
    camera: Identifier | None = Field(
        None, description="Camera id in events (default: the 20-digit code itself)."
    )
    name: str = Field("", max_length=100, description="Name shown to people.")
    password: SecretStr | None = Field(
        None, description="Registration password of a device (default: gb28181.password)."
    )
    device: GbId | None = Field(None, description="For a channel: the device it belongs to.")


class Gb28181Section(Section):
    """The GB/T 28181 SIP server (`shouwang gb28181`)."""

    server_id: GbId = Field(
        "34020000002000000001", description="This platform's 20-digit SIP server code."
    )
    domain: str = Field(
        "3402000000",
        pattern=r"^[0-9]{10}$",
        description="SIP domain (the first 10 digits of the server code), also the digest realm.",
    )
    host: str = Field("0.0.0.0", description="Address the SIP server listens on.")
    port: int = Field(5060, ge=0, le=65535, description="SIP port, UDP and TCP (0: any free).")
    advertised_host: str | None = Field(
        None, description="Address devices reach the server at (Via, Contact); default: host."
    )
    transports: list[Literal["udp", "tcp"]] = Field(
        ["udp", "tcp"], min_length=1, description="SIP transports to listen on."
    )
    password: SecretStr | None = Field(
        None, description="Registration password of devices that have none of their own."
    )
    nonce_secret: SecretStr | None = Field(
        None,
        description="Signs digest nonces; every gateway process of a deployment needs the same "
        "one. Default: one generated once and kept in Redis.",
    )
    digest_algorithm: Literal["MD5", "SHA-256", "SM3"] = Field(
        "MD5", description="Algorithm offered in challenges (devices may answer with another)."
    )
    min_expires_s: int = Field(
        3600, ge=1, description="Shortest registration accepted (423 below); the standard's 3600."
    )
    max_expires_s: int = Field(86400, ge=1, description="Longer registrations are shortened.")
    keepalive_interval_s: float = Field(
        60.0, gt=0, description="Keepalive interval the devices are configured with."
    )
    keepalive_misses: int = Field(
        3, ge=1, le=255, description="Missed keepalives after which a device is offline."
    )
    sweep_interval_s: float = Field(1.0, gt=0, description="How often overdue devices are found.")
    query_catalog: bool = Field(True, description="Ask each device for its channels on register.")
    subscribe_alarms: bool = Field(
        False,
        description="SUBSCRIBE to alarms after registering (platforms that send alarms only to "
        "subscribers); others send alarm MESSAGEs anyway.",
    )
    subscription_expires_s: int = Field(3600, ge=60, description="Alarm subscription lifetime.")
    reset_device_alarms: bool = Field(
        True,
        description="Send the alarm reset after a device alarm (AlarmMethod 2), without which a "
        "device sends no further device alarms.",
    )
    charset: Literal["GB2312", "GB18030", "UTF-8"] = Field(
        "GB2312", description="Charset of the MANSCDP bodies this server sends."
    )
    gb_version: str = Field(
        "3.0", pattern=r"^[0-9]+\.[0-9]+$", description="X-GB-Ver sent (3.0 is the 2022 edition)."
    )
    timezone: TimeZone = Field(
        "Asia/Shanghai", description="Zone of device times without offset (IANA name)."
    )
    alarm_types: dict[str, EventType] = Field(
        default_factory=dict,
        description='Extra or changed alarm mappings, `"<AlarmMethod>/<AlarmType>": type` '
        '(e.g. a vendor extension `"5/36": camera_alarm`).',
    )
    publish_timeout_s: float = Field(
        5.0,
        gt=0,
        description="An alarm not acknowledged by the broker in time gets no 200 OK "
        "(the device sends it again).",
    )
    metrics_port: int = Field(9112, ge=0, le=65535, description="Prometheus port; 0: off.")
    state_prefix: str = Field(
        "shouwang:gb28181", description="Prefix of the Redis keys holding registrations."
    )
    deadletter_stream: str = Field(
        DEADLETTER_STREAM, description="Redis Stream for what cannot be used, with the reason."
    )
    device_refresh_s: float = Field(
        60.0, gt=0, description="How often the device table is read again from the database."
    )

    @field_validator("alarm_types")
    @classmethod
    def _codes(cls, value: dict[str, EventType]) -> dict[str, EventType]:
        for code in value:
            if not re.fullmatch(r"[0-9]{1,2}/[0-9]{1,3}|[0-9]{1,2}", code):
                raise ValueError(f"{code!r} is not <AlarmMethod>/<AlarmType>")
        return value


class VendorCamera(Section):
    """A Hikvision or Dahua camera (or NVR channel) whose own analytics report events."""

    id: Identifier = Field(
        description="Camera id in events; a posting camera uses "
        "`/events/<id>` as its HTTP host path."
    )
    site: Identifier
    name: DisplayName | None = Field(
        None, description="What people call the camera (村口, 学校路口), sent in its events."
    )
    vendor: Literal["hikvision", "dahua"]
    url: str | None = Field(
        None,
        description="http(s)://host[:port] to hold the event stream of (alertStream, "
        "eventManager attach); none: the camera posts to the listening host instead.",
    )
    username: str = Field("admin", description="Digest user of the stream.")
    password: SecretStr | None = Field(None, description="Digest password of the stream.")
    channel: int | None = Field(None, ge=1, description="Only events of this channel (NVRs).")


class CameraEventsSection(Section):
    """Hikvision ISAPI and Dahua HTTP events (`shouwang camera-events`)."""

    host: str = Field("0.0.0.0", description="Address of the HTTP listening host.")
    port: int = Field(8099, ge=0, le=65535, description="Port cameras post events to.")
    cameras: list[VendorCamera] = Field(
        default_factory=list, description="Cameras that post or whose stream is held."
    )
    reconnect_max_s: float = Field(60.0, ge=0.1, description="Longest wait between reconnects.")
    read_timeout_s: float = Field(
        30.0, gt=0, description="A stream silent this long (no heartbeat) is reconnected."
    )
    update_interval_s: float = Field(
        30.0, gt=0, description="Repeated `active` reports become an update at most this often."
    )
    quiet_end_s: float = Field(
        15.0, gt=0, description="An event reported active and then silent this long has ended."
    )
    max_snapshot_bytes: int = Field(
        180 * 1024, ge=1024, description="Larger pictures are scaled down (ingest's limit)."
    )
    timezone: TimeZone = Field("Asia/Shanghai", description="Zone of camera times without offset.")
    publish_timeout_s: float = Field(5.0, gt=0, description="Broker acknowledgement deadline.")
    deadletter_stream: str = Field(
        DEADLETTER_STREAM, description="Redis Stream for what cannot be used, with the reason."
    )
    edge_id: Identifier = Field(
        "camera-events", description="Edge id of this gateway in the events it publishes."
    )


class CamerasSettings(ServiceSettings):
    """Everything `shouwang gb28181` and `shouwang camera-events` read."""

    gb28181: Gb28181Section = Field(default_factory=Gb28181Section)
    camera_events: CameraEventsSection = Field(default_factory=CameraEventsSection)
    cameras: list[DeviceEntry] = Field(
        default_factory=list, description="GB/T 28181 devices and channels (besides the database)."
    )
    database: DatabaseSettings | None = Field(
        None, description="Records database holding the device table (`shouwang cameras import`)."
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
