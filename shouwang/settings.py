"""Settings shared by every service: where the broker and Redis are, and how config is loaded.

Each service defines its own settings class on top of `ServiceSettings`, adding its section.
Values come from, highest first: keyword arguments, environment variables
(`SHOUWANG_<SECTION>__<KEY>`, e.g. `SHOUWANG_MQTT__HOST`), the YAML config file
(`--config FILE` or `SHOUWANG_CONFIG`), then the defaults.
"""

import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

CONFIG_ENV = "SHOUWANG_CONFIG"
_file_values: ContextVar[dict[str, Any] | None] = ContextVar("shouwang_config_values", default=None)


class ConfigError(Exception):
    """A config file or environment setting that cannot be used; the message says where."""


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
    return value


TimeZone = Annotated[str, AfterValidator(_known_zone)]
"""An IANA time zone name (`Asia/Shanghai`) that this machine's zone database knows."""


def _group_start(value: str) -> str:
    if value not in ("$", "0"):
        raise ValueError("must be `$` or `0`")
    return value


GroupStart = Annotated[str, AfterValidator(_group_start)]
"""Where a newly created Redis consumer group starts: `$` (new entries only) or `0` (the
whole stream)."""


class Section(BaseModel):
    """A config section: unknown keys are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class MqttSettings(Section):
    """Connection to the MQTT broker."""

    host: str = Field("127.0.0.1", description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 is usual for TLS).")
    username: str | None = Field(None, description="User name, if the broker requires one.")
    password: SecretStr | None = Field(None, description="Password for `username`.")
    tls: bool = Field(False, description="Connect with TLS.")
    ca_file: Path | None = Field(None, description="CA bundle to verify the broker (TLS).")
    keepalive_s: int = Field(30, ge=5, le=600, description="MQTT keepalive interval.")


class RedisSettings(Section):
    """Connection to Redis (streams, de-duplication keys, timers, edge state)."""

    url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="redis:// or rediss:// URL, with password and database number if needed; "
        "with `cluster`, any one node of the cluster.",
    )
    cluster: bool = Field(
        False,
        description="Redis Cluster: the client learns the other nodes from the one in `url` "
        "and follows failovers. Needs `partitions.enabled`, so that what belongs together "
        "shares a hash slot.",
    )
    cluster_nodes: list[str] = Field(
        default_factory=list,
        description="With `cluster`: more nodes (`host:port`) to learn the cluster from, so a "
        "service starts while the node in `url` is down.",
    )
    replica_acks: int = Field(
        0,
        ge=0,
        le=5,
        description="Writes that something outside is told are stored (ingest's appends, "
        "before the broker's acknowledgement) wait until this many replicas have them "
        "(WAIT), so a master lost in a failover loses none of them. 0: do not wait.",
    )
    replica_wait_ms: int = Field(
        1000,
        ge=1,
        le=60_000,
        description="Longest wait for `replica_acks`; a write that fewer replicas confirmed "
        "in time is kept on its master alone, counted and logged.",
    )


DEFAULT_COUNTY_PATTERN = r"^[^-]+-([^-]+)-"
"""The county of `<city>-<county>-<n>` site ids (`tongren-bijiang-01` → `bijiang`)."""


class PartitionSettings(Section):
    """How events are split into partitions (section `partitions:`, read by every service)."""

    enabled: bool = Field(
        False,
        description="Split events into partitions, each with its own stream, de-duplication "
        "keys and timers in one Redis Cluster hash slot. Off: one partition under the plain "
        "names (a single Redis).",
    )
    key: Literal["county", "site"] = Field(
        "county",
        description="What of the site id names the partition: its county part "
        "(`county_pattern`) or the whole site id.",
    )
    county_pattern: str = Field(
        DEFAULT_COUNTY_PATTERN,
        description="Regular expression whose first group is the county of a site id; a site "
        "it does not match is a partition of its own.",
    )

    @field_validator("county_pattern")
    @classmethod
    def _one_group(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if compiled.groups < 1:
            raise ValueError("needs a group, e.g. ^[^-]+-([^-]+)- for the county")
        return value


class ServiceSettings(BaseSettings):
    """Base of every service's settings: the broker, Redis, and where config comes from."""

    model_config = SettingsConfigDict(
        env_prefix="SHOUWANG_", env_nested_delimiter="__", extra="ignore"
    )

    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    partitions: PartitionSettings = Field(default_factory=PartitionSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            InitSettingsSource(settings_cls, init_kwargs=_file_values.get() or {}),
        )

    @classmethod
    def load(cls, config: Path | None = None, **overrides: Any) -> Self:
        """Load settings from `config` (or $SHOUWANG_CONFIG), the environment and `overrides`.

        Raises ConfigError naming the file, the key path and the problem.
        """
        path = config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
        token = _file_values.set(_read_yaml(path) if path else {})
        try:
            return cls(**overrides)
        except ValidationError as exc:
            where = f"config file {path}" if path else "settings"
            problems = "\n".join(
                f"  {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
                f" (got {err['input']!r})"
                if err["type"] != "missing"
                else f"  {'.'.join(str(p) for p in err['loc'])}: required"
                for err in exc.errors(include_url=False)
            )
            raise ConfigError(
                f"invalid {where} (environment variables SHOUWANG_<SECTION>__<KEY> "
                f"also apply):\n{problems}"
            ) from None
        finally:
            _file_values.reset(token)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections at the top level")
    return values
