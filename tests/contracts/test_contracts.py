"""The wire contract on its own: topics, decoding, reasons and the exported JSON Schemas."""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from shouwang.contracts import (
    BehaviourEvent,
    EventOrigin,
    EventType,
    MessageKind,
    Reason,
    Rejection,
    build_topic,
    decode,
    parse_topic,
    subscription,
)
from shouwang.contracts.clips import mp4_problem
from shouwang.contracts.examples import CAMERA_EVENT_TYPES, TINY_MP4, camera_event_example, example
from shouwang.contracts.schema_export import export_schemas

SOURCES = {
    MessageKind.EVENT: "cam-01",
    MessageKind.SNAPSHOT: "cam-01",
    MessageKind.CLIP: "cam-01",
    MessageKind.SENSOR: "sos-01",
    MessageKind.STATUS: "edge-01",
    MessageKind.HEARTBEAT: "edge-01",
}


@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_example_decodes_on_its_own_topic(kind: MessageKind) -> None:
    message = example(kind, site="site-1", source=SOURCES[kind])
    topic = build_topic("site-1", SOURCES[kind], kind)
    parsed, decoded = decode(topic, message.model_dump_json().encode())
    assert decoded == message
    assert (parsed.site, parsed.source, parsed.kind) == ("site-1", SOURCES[kind], kind)


def test_topic_round_trip_and_filters() -> None:
    topic = build_topic("tongren-01", "cam-7", "event")
    assert topic == "shouwang/v1/tongren-01/cam-7/event"
    assert str(parse_topic(topic)) == topic
    assert subscription(MessageKind.SENSOR) == "shouwang/v1/+/+/sensor"
    with pytest.raises(ValueError, match="not a valid topic level"):
        build_topic("site/with/slashes", "cam", "event")


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("shouwang/v1/site/cam/event/extra", Reason.BAD_TOPIC),
        ("other/v1/site/cam/event", Reason.BAD_TOPIC),
        ("shouwang/v1/+/cam/event", Reason.BAD_TOPIC),
        ("shouwang/v2/site/cam/event", Reason.UNSUPPORTED_VERSION),
        ("shouwang/v1/site/cam/picture", Reason.UNKNOWN_KIND),
    ],
)
def test_bad_topics_are_rejected_with_a_reason(topic: str, reason: Reason) -> None:
    with pytest.raises(Rejection) as caught:
        decode(topic, b"{}")
    assert caught.value.reason is reason


def test_payload_limit_is_configurable() -> None:
    message = example(MessageKind.EVENT, site="s1", source="cam-01").model_dump_json().encode()
    topic = build_topic("s1", "cam-01", "event")
    decode(topic, message, max_bytes=len(message))
    with pytest.raises(Rejection) as caught:
        decode(topic, message, max_bytes=len(message) - 1)
    assert caught.value.reason is Reason.OVERSIZE


def test_clips_have_their_own_payload_limit() -> None:
    clip = example(MessageKind.CLIP, site="s1", source="cam-01").model_dump(mode="json")
    clip["data"] += "A" * (300_000 - len(clip["data"]) % 4)  # base64 of zeros after the MP4
    payload = json.dumps(clip).encode()
    topic = build_topic("s1", "cam-01", "clip")
    with pytest.raises(Rejection) as caught:
        decode(topic, payload, max_clip_bytes=len(payload) - 1)
    assert caught.value.reason is Reason.OVERSIZE
    with pytest.raises(Rejection) as caught:  # past the general limit, but within the clip one
        decode(topic, payload)
    assert caught.value.reason is Reason.BAD_CLIP


@pytest.mark.parametrize(
    ("video", "problem"),
    [
        (b"\x00\x00\x00\x08free" + TINY_MP4, "no ftyp box first"),
        (TINY_MP4[:-10], "beyond the data"),
        (TINY_MP4[:32] + b"\x00\x00\x00\x08mdat", "no moov"),
    ],
)
def test_clips_must_be_complete_faststart_mp4(video: bytes, problem: str) -> None:
    assert problem in (mp4_problem(video) or "")
    clip = example(MessageKind.CLIP, site="s1", source="cam-01").model_dump(mode="json")
    clip["data"] = base64.b64encode(video).decode()
    clip["sha256"] = hashlib.sha256(video).hexdigest()
    with pytest.raises(Rejection) as caught:
        decode(build_topic("s1", "cam-01", "clip"), json.dumps(clip).encode())
    assert caught.value.reason is Reason.BAD_CLIP
    assert problem in caught.value.detail


def test_a_clip_with_moov_after_mdat_is_not_faststart() -> None:
    boxes = [TINY_MP4[:32], b"\x00\x00\x00\x08mdat", b"\x00\x00\x00\x08moov"]
    assert "not faststart" in (mp4_problem(b"".join(boxes)) or "")
    assert mp4_problem(TINY_MP4) is None


def test_event_times_must_be_ordered() -> None:
    payload = example(MessageKind.EVENT, site="s1", source="cam-01").model_dump(mode="json")
    payload["started_at"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with pytest.raises(Rejection) as caught:
        decode(build_topic("s1", "cam-01", "event"), json.dumps(payload).encode())
    assert caught.value.reason is Reason.INVALID_VALUE
    assert "started_at" in caught.value.detail


def test_idempotency_keys_name_the_message() -> None:
    event = example(MessageKind.EVENT, site="s1", source="cam-01", message_id="evt-00000001")
    assert isinstance(event, BehaviourEvent)
    assert event.idempotency_key == "event:evt-00000001"
    sensor = example(MessageKind.SENSOR, site="s1", source="sos-01", message_id="r-000000001")
    assert sensor.idempotency_key == "sensor:s1:sos-01:r-000000001"
    assert example(MessageKind.HEARTBEAT, site="s1", source="edge-01").idempotency_key is None


def test_exported_schemas_accept_examples_and_reject_bad_payloads(tmp_path: Path) -> None:
    paths = export_schemas(tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{k.value}.schema.json" for k in MessageKind)
    for kind in MessageKind:
        schema = json.loads((tmp_path / f"{kind.value}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        good = example(kind, site="s1", source=SOURCES[kind]).model_dump(mode="json")
        validator.validate(good)
        assert not validator.is_valid({**good, "unexpected": 1})
        assert not validator.is_valid({k: v for k, v in good.items() if k != "site"})


@pytest.mark.parametrize("type_", CAMERA_EVENT_TYPES)
def test_camera_native_event_types_decode_and_match_the_schema(
    type_: EventType, tmp_path: Path
) -> None:
    event = camera_event_example(type_, site="s1", camera="cam-pond")
    topic = build_topic("s1", "cam-pond", MessageKind.EVENT)
    _, decoded = decode(topic, event.model_dump_json().encode())
    assert isinstance(decoded, BehaviourEvent)
    assert (decoded.type, decoded.origin) == (type_, EventOrigin.CAMERA)
    export_schemas(tmp_path)
    schema = json.loads((tmp_path / "event.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(event.model_dump(mode="json"))


def test_origin_defaults_to_the_analyser_and_unknown_origins_are_rejected() -> None:
    payload = example(MessageKind.EVENT, site="s1", source="cam-01").model_dump(mode="json")
    topic = build_topic("s1", "cam-01", "event")
    del payload["origin"]  # a publisher from before origins existed
    _, decoded = decode(topic, json.dumps(payload).encode())
    assert isinstance(decoded, BehaviourEvent) and decoded.origin is EventOrigin.ANALYSER
    with pytest.raises(Rejection) as caught:
        decode(topic, json.dumps({**payload, "origin": "neighbour"}).encode())
    assert caught.value.reason is Reason.INVALID_VALUE


def test_person_down_decodes_with_its_attributes_and_matches_the_schema(tmp_path: Path) -> None:
    """`person_down` joined schema version 1: old events stay valid, new ones decode."""
    base = example(MessageKind.EVENT, site="s1", source="cam-01").model_dump(mode="json")
    payload = {
        **base,
        "type": "person_down",
        "phase": "update",
        "attributes": {"down_s": 61.0, "long_lie": True},
    }
    topic = build_topic("s1", "cam-01", MessageKind.EVENT)
    _, decoded = decode(topic, json.dumps(payload).encode())
    assert isinstance(decoded, BehaviourEvent) and decoded.type is EventType.PERSON_DOWN
    assert decoded.attributes == {"down_s": 61.0, "long_lie": True}
    export_schemas(tmp_path)
    schema = json.loads((tmp_path / "event.schema.json").read_text())
    assert "person_down" in json.dumps(schema)
    jsonschema.Draft202012Validator(schema).validate(payload)
