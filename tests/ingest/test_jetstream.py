"""Topics and subjects between MQTT and the JetStream stream of NATS's MQTT front."""

import pytest

from ingest.config import IngestSettings
from ingest.jetstream import subject_filter, topic_of
from shouwang.settings import ConfigError


def test_topic_filters_become_subject_filters() -> None:
    assert subject_filter("shouwang/#") == "$MQTT.msgs.shouwang.>"
    assert subject_filter("shouwang/+/tongren-bijiang-01/#") == (
        "$MQTT.msgs.shouwang.*.tongren-bijiang-01.>"
    )


def test_stored_subjects_read_back_as_topics() -> None:
    subject = "$MQTT.msgs.shouwang.v1.tongren-bijiang-01.cam-01.event"
    assert topic_of(subject) == "shouwang/v1/tongren-bijiang-01/cam-01/event"


def test_the_source_is_checked() -> None:
    settings = IngestSettings.load(None, ingest={"source": "jetstream"})
    assert settings.ingest.jetstream.stream == "$MQTT_msgs"
    with pytest.raises(ConfigError, match=r"ingest\.source"):
        IngestSettings.load(None, ingest={"source": "kafka"})
