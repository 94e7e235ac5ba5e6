"""PublisherSettings: sensible defaults, and bad values fail with the key path."""

from pathlib import Path

import pytest
from pydantic import Field, ValidationError

from edge.publish import PublisherSettings
from shouwang.settings import ConfigError, ServiceSettings


class _EdgeSettings(ServiceSettings):
    publish: PublisherSettings = Field(default_factory=PublisherSettings)


def test_defaults_suit_a_small_box() -> None:
    settings = PublisherSettings()
    assert settings.max_queued_messages == 50_000
    assert settings.replay_rate == 200
    assert settings.replay_jitter_s == 10
    assert settings.mqtt_version == "5"
    assert 1 <= settings.max_inflight <= 100


def test_every_field_is_described() -> None:
    for name, info in PublisherSettings.model_fields.items():
        assert info.description, f"{name} has no description"


@pytest.mark.parametrize(
    ("values", "field", "needle"),
    [
        ({"replay_rate": 0}, "replay_rate", "greater than 0"),
        ({"max_queued_messages": 0}, "max_queued_messages", "greater than or equal to 10"),
        ({"replay_jitter_s": -1}, "replay_jitter_s", "greater than or equal to 0"),
        ({"mqtt_version": "4"}, "mqtt_version", "'5' or '3.1.1'"),
        ({"max_inflight": "many"}, "max_inflight", "valid integer"),
        ({"replay_rat": 10}, "replay_rat", "Extra inputs are not permitted"),
    ],
)
def test_bad_values_name_the_field(values: dict[str, object], field: str, needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        PublisherSettings.model_validate(values)
    errors = info.value.errors()
    assert errors[0]["loc"] == (field,)
    assert needle in str(info.value)


def test_backoff_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match=r"reconnect_max_s .* must not be smaller"):
        PublisherSettings(reconnect_min_s=30, reconnect_max_s=5)


def test_yaml_error_names_file_and_key_path(tmp_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text("publish:\n  replay_rate: -5\n  queue_path: /tmp/q.sqlite3\n")
    with pytest.raises(ConfigError) as info:
        _EdgeSettings.load(config)
    message = str(info.value)
    assert str(config) in message
    assert "publish.replay_rate" in message
