"""Settings of the alert API (`api:` and `database:` sections of the config file)."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from records.settings import DatabaseSettings
from shouwang.redis_keys import ALERTS_STREAM, NOTIFICATIONS_STREAM, RULES_PREFIX
from shouwang.settings import Section, ServiceSettings, TimeZone

Language = Literal["zh", "en"]


class ApiSection(Section):
    """How the alert API listens, signs people in, and finds alerts, snapshots and the feed."""

    host: str = Field("127.0.0.1", description="Address to listen on (`0.0.0.0`: every one).")
    port: int = Field(8080, ge=1, le=65535, description="Port to listen on.")
    public_url: str | None = Field(
        None,
        description="The address people reach the API at (`https://shouwang.example.org`), used "
        "in guardians' invite links; without it, the address of the request is used.",
    )
    snapshot_dir: Path = Field(
        Path("var/snapshots"),
        description="Where ingest stores snapshots (its `ingest.snapshot_dir`): alerts hold "
        "paths relative to it.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key that signs snapshot URLs. Without it, one is generated on first start "
        "and kept in the database, so every API process shares it.",
    )
    session_ttl_s: int = Field(
        12 * 3600,
        ge=60,
        description="How long a staff member's sign-in on the web pages lasts (seconds).",
    )
    guardian_session_ttl_s: int = Field(
        180 * 24 * 3600,
        ge=60,
        description="How long a guardian stays signed in on their phone (seconds).",
    )
    token_ttl_s: int = Field(
        30 * 24 * 3600,
        ge=60,
        description="How long a bearer token from `POST /api/auth/login` is valid (seconds).",
    )
    invite_ttl_s: int = Field(
        7 * 24 * 3600, ge=60, description="How long a guardian's invite link can be used."
    )
    cookie_secure: bool = Field(
        False,
        description="Send the session cookie over HTTPS only; set it when the API is served "
        "over HTTPS (it must be for Web Push on phones, except on localhost).",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Failed sign-ins allowed per login name within `login_window_s`; then "
        "sign-in for that name is refused (HTTP 429) until the window passes.",
    )
    login_ip_max_failures: int = Field(
        20,
        ge=1,
        description="Failed sign-ins allowed per client address within `login_window_s`.",
    )
    login_window_s: int = Field(
        900, ge=1, description="Window of the failed sign-in counters (seconds)."
    )
    key_prefix: str = Field(
        "shouwang:api", description="Prefix of the API's Redis keys (sign-in rate limits)."
    )
    alerts_stream: str = Field(
        ALERTS_STREAM,
        description="Stream of alert changes the rules engine publishes (the live feed); alert "
        "changes made through the API are published to it too.",
    )
    notifications_stream: str = Field(
        NOTIFICATIONS_STREAM,
        description="Stream of notification jobs (`rules.notifications_stream`): the API "
        "publishes pending outbox entries after its own changes, so it must name the same one.",
    )
    rules_key_prefix: str = Field(
        RULES_PREFIX,
        description="The rules engine's key prefix (`rules.key_prefix`): acknowledging an "
        "alert stops its escalation timer there.",
    )
    feed_block_ms: int = Field(
        5000, ge=10, le=60_000, description="How long the live feed waits for new changes."
    )
    feed_ping_s: int = Field(
        15, ge=1, le=300, description="Keep-alive comment interval of the live feed (seconds)."
    )
    feed_recheck_s: float = Field(
        60.0,
        gt=0,
        description="How often an open live feed checks that its sign-in is still valid.",
    )
    timezone: TimeZone = Field(
        "Asia/Shanghai",
        description="Time zone of the statistics' days and the times the pages show.",
    )
    default_language: Language = Field(
        "zh", description="Language of the pages until a person switches (`zh` or `en`)."
    )
    csv_max_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="Largest watch-list CSV file accepted for upload."
    )
    page_size: int = Field(
        50, ge=1, le=500, description="Alerts per page when a request does not say."
    )

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value


class ApiSettings(ServiceSettings):
    """Everything `shouwang api` reads."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    api: ApiSection = Field(default_factory=ApiSection)
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
