"""Ingest against the real broker and Redis: stored once, dead-lettered with reasons."""

import base64
import hashlib
import json
import uuid
from pathlib import Path

import pytest
import redis

from shouwang.contracts import MessageKind
from shouwang.contracts.examples import TINY_JPEG, TINY_MP4, example
from tests.ingest.conftest import (
    Namespace,
    Publisher,
    event_payload,
    running_worker,
    wait_for,
)

pytestmark = pytest.mark.integration


def test_valid_event_becomes_one_entry_with_the_same_fields(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for
) -> None:
    payload = event_payload(ns)
    with running_worker(settings_for()):
        publisher.publish(ns.topic("cam-01", "event"), payload)
        assert wait_for(lambda: redis_client.xlen(ns.stream) == 1)
    [(_, fields)] = redis_client.xrange(ns.stream)
    sent = json.loads(payload)
    assert json.loads(fields["payload"]) == sent
    assert fields["kind"] == "event"
    assert fields["key"] == f"event:{sent['event_id']}"
    assert (fields["site"], fields["source"], fields["type"], fields["phase"]) == (
        ns.site,
        "cam-01",
        "fall",
        "start",
    )
    assert fields["topic"] == ns.topic("cam-01", "event")


def test_same_event_three_times_is_stored_once(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for
) -> None:
    payload = event_payload(ns)
    other = event_payload(ns)
    with running_worker(settings_for()) as worker:
        for _ in range(3):
            publisher.publish(ns.topic("cam-01", "event"), payload)
        publisher.publish(ns.topic("cam-01", "event"), other)
        assert wait_for(lambda: worker.counts["received"] == 4)
    assert redis_client.xlen(ns.stream) == 2
    assert worker.counts["duplicates"] == 2
    assert (
        worker.metrics.registry.get_sample_value(
            "shouwang_ingest_duplicates_total", {"kind": "event"}
        )
        == 2
    )


def _event(ns: Namespace, **changes: object) -> dict:
    payload = json.loads(event_payload(ns))
    payload.update(changes)
    return payload


def _without(ns: Namespace, field: str) -> dict:
    payload = json.loads(event_payload(ns))
    del payload[field]
    return payload


def malformed_cases(ns: Namespace) -> list[tuple[str, str, bytes]]:
    """(expected reason, topic, payload) for every kind of bad input we can name."""
    topic = ns.topic("cam-01", "event")

    def dumps(value: object) -> bytes:
        return json.dumps(value).encode()

    snapshot = example(MessageKind.SNAPSHOT, site=ns.site, source="cam-01").model_dump()
    corrupt_snapshot = dict(snapshot, data=base64.b64encode(b"not a jpeg at all").decode())
    return [
        ("oversize", topic, b"{" + b" " * (300 * 1024) + b"}"),
        ("empty", topic, b""),
        ("bad_topic", f"shouwang/v1/{ns.site}/cam-01", dumps(_event(ns))),
        ("unsupported_version", f"shouwang/v9/{ns.site}/cam-01/event", dumps(_event(ns))),
        ("unknown_kind", f"shouwang/v1/{ns.site}/cam-01/video", dumps(_event(ns))),
        ("not_utf8", topic, b'{"schema_version": 1, "x": "\xff\xfe"}'),
        ("invalid_json", topic, b'{"schema_version": 1,'),
        ("not_an_object", topic, b"[1, 2, 3]"),
        ("missing_schema_version", topic, dumps(_without(ns, "schema_version"))),
        ("unsupported_schema_version", topic, dumps(_event(ns, schema_version=2))),
        ("missing_field", topic, dumps(_without(ns, "event_id"))),
        ("unexpected_field", topic, dumps(_event(ns, colour="red"))),
        ("wrong_type", topic, dumps(_event(ns, confidence="0.9"))),
        ("not_finite", topic, json.dumps(_event(ns, confidence=float("nan"))).encode()),
        (
            "not_finite",
            topic,
            dumps(_event(ns))
            .replace(b'"track_id": 7', b'"track_id": 7, "confidence": 1e999')
            .replace(b'"confidence": 0.87, ', b""),
        ),
        ("out_of_range", topic, dumps(_event(ns, confidence=1.5))),
        ("invalid_value", topic, dumps(_event(ns, type="dancing"))),
        ("naive_timestamp", topic, dumps(_event(ns, observed_at="2026-11-28T09:30:00"))),
        ("topic_mismatch", topic, dumps(_event(ns, camera="cam-02"))),
        ("topic_mismatch", topic, dumps(_event(ns, site=ns.site + "x"))),
        ("bad_snapshot", ns.topic("cam-01", "snapshot"), dumps(corrupt_snapshot)),
    ]


def test_malformed_payloads_are_dead_lettered_with_their_reason(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for
) -> None:
    cases = malformed_cases(ns)
    assert len({reason for reason, _, _ in cases}) >= 15
    with running_worker(settings_for()) as worker:
        for _, topic, payload in cases:
            publisher.publish(topic, payload)
        assert wait_for(lambda: redis_client.xlen(ns.deadletter) == len(cases))
        # Still consuming afterwards.
        publisher.publish(ns.topic("cam-01", "event"), event_payload(ns))
        assert wait_for(lambda: redis_client.xlen(ns.stream) == 1)
    letters = [fields for _, fields in redis_client.xrange(ns.deadletter)]
    by_payload = {(f["topic"], base64.b64decode(f["payload_b64"])): f for f in letters}
    for reason, topic, payload in cases:
        letter = by_payload[(topic, payload)]
        assert letter["reason"] == reason, (reason, letter["detail"])
        assert letter["detail"]
        assert letter["worker"] == worker.worker_id
        assert int(letter["received_ms"]) > 0
    assert worker.counts["deadlettered"] == len(cases)
    assert redis_client.xlen(ns.stream) == 1


def test_stored_payload_keeps_every_field_of_each_kind(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for
) -> None:
    sensor = example(MessageKind.SENSOR, site=ns.site, source="sos-01")
    status = example(MessageKind.STATUS, site=ns.site, source="edge-01")
    with running_worker(settings_for()):
        publisher.publish(ns.topic("sos-01", "sensor"), sensor.model_dump_json())
        publisher.publish(ns.topic("edge-01", "status"), status.model_dump_json())
        assert wait_for(lambda: redis_client.xlen(ns.stream) == 2)
    entries = {fields["kind"]: fields for _, fields in redis_client.xrange(ns.stream)}
    assert json.loads(entries["sensor"]["payload"]) == sensor.model_dump(mode="json")
    assert entries["sensor"]["type"] == "sos_button"
    assert json.loads(entries["status"]["payload"]) == status.model_dump(mode="json")
    assert entries["status"]["type"] == "online"


def test_snapshot_is_stored_as_a_file_and_announced_on_the_stream(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for, tmp_path: Path
) -> None:
    event_id = str(uuid.uuid4())
    snapshot = example(MessageKind.SNAPSHOT, site=ns.site, source="cam-01", message_id=event_id)
    settings = settings_for()
    with running_worker(settings):
        publisher.publish(ns.topic("cam-01", "snapshot"), snapshot.model_dump_json())
        publisher.publish(ns.topic("cam-01", "snapshot"), snapshot.model_dump_json())
        assert wait_for(lambda: redis_client.xlen(ns.stream) == 1)
    [(_, fields)] = redis_client.xrange(ns.stream)
    assert fields["kind"] == "snapshot"
    assert fields["event_id"] == event_id
    stored = settings.ingest.snapshot_dir / fields["path"]
    assert stored.read_bytes() == TINY_JPEG
    assert stored.name == f"{event_id}.jpg"


def test_snapshot_over_the_size_limit_is_dead_lettered(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for
) -> None:
    big_jpeg = TINY_JPEG[:-2] + b"\x00" * 4000 + TINY_JPEG[-2:]
    from shouwang.contracts import Snapshot

    snapshot = Snapshot.from_jpeg(
        big_jpeg, event_id=str(uuid.uuid4()), site=ns.site, camera="cam-01", width=1, height=1
    )
    with running_worker(settings_for(max_snapshot_bytes=2048, max_payload_bytes=8192)):
        publisher.publish(ns.topic("cam-01", "snapshot"), snapshot.model_dump_json())
        assert wait_for(lambda: redis_client.xlen(ns.deadletter) == 1)
    [(_, letter)] = redis_client.xrange(ns.deadletter)
    assert letter["reason"] == "bad_snapshot"
    assert "limit 2048" in letter["detail"]


def _clip(site: str, event_id: str, video: bytes) -> str:
    clip = example(MessageKind.CLIP, site=site, source="cam-01", message_id=event_id)
    payload = clip.model_dump(mode="json")
    payload.update(data=base64.b64encode(video).decode(), sha256=hashlib.sha256(video).hexdigest())
    return json.dumps(payload)


def test_clip_is_stored_beside_its_snapshot_and_announced(
    ns: Namespace, redis_client: redis.Redis, publisher: Publisher, settings_for
) -> None:
    event_id = str(uuid.uuid4())
    snapshot = example(MessageKind.SNAPSHOT, site=ns.site, source="cam-01", message_id=event_id)
    # Padding after the boxes' end would be refused; a free box makes it larger than the
    # general payload limit (256 KiB) and keeps it a valid MP4.
    video = TINY_MP4 + (300_000).to_bytes(4, "big") + b"free" + b"\0" * (300_000 - 8)
    settings = settings_for()
    with running_worker(settings):
        publisher.publish(ns.topic("cam-01", "snapshot"), snapshot.model_dump_json())
        assert wait_for(lambda: redis_client.xlen(ns.stream) == 1)
        publisher.publish(ns.topic("cam-01", "clip"), _clip(ns.site, event_id, video))
        publisher.publish(ns.topic("cam-01", "clip"), _clip(ns.site, event_id, video))
        assert wait_for(lambda: redis_client.xlen(ns.stream) == 2)
    entries = {fields["kind"]: fields for _, fields in redis_client.xrange(ns.stream)}
    clip, jpeg = entries["clip"], entries["snapshot"]
    assert (clip["event_id"], clip["key"], clip["bytes"]) == (
        event_id,
        f"clip:{event_id}",
        str(len(video)),
    )
    stored = settings.ingest.snapshot_dir / clip["path"]
    assert stored.read_bytes() == video
    assert stored == (settings.ingest.snapshot_dir / jpeg["path"]).with_suffix(".mp4")
    assert redis_client.xlen(ns.deadletter) == 0


@pytest.mark.parametrize(
    ("video", "limits", "detail"),
    [
        (TINY_MP4, {"max_clip_bytes": 1024}, "limit 1024"),
        (TINY_MP4[:-4], {}, "beyond the data"),
    ],
    ids=["too-large", "truncated"],
)
def test_bad_clip_is_dead_lettered(
    ns: Namespace,
    redis_client: redis.Redis,
    publisher: Publisher,
    settings_for,
    video: bytes,
    limits: dict[str, int],
    detail: str,
) -> None:
    with running_worker(settings_for(**limits)):
        publisher.publish(ns.topic("cam-01", "clip"), _clip(ns.site, str(uuid.uuid4()), video))
        assert wait_for(lambda: redis_client.xlen(ns.deadletter) == 1)
    [(_, letter)] = redis_client.xrange(ns.deadletter)
    assert letter["reason"] == "bad_clip"
    assert detail in letter["detail"]
    assert redis_client.xlen(ns.stream) == 0
