"""One valid example message of each kind, for docs, `shouwang contracts example` and tests."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

from shouwang.contracts.clips import Clip
from shouwang.contracts.common import SCHEMA_VERSION, MessageKind, WireModel
from shouwang.contracts.events import (
    BehaviourEvent,
    BoundingBox,
    EventOrigin,
    EventType,
    ModelRef,
    Phase,
)
from shouwang.contracts.sensors import SensorReading, SensorType
from shouwang.contracts.snapshots import Snapshot
from shouwang.contracts.status import CameraHealth, CameraState, EdgeState, EdgeStatus, Heartbeat

# A 1x1 white JPEG: the smallest complete image for examples and tests.
TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c"
    "1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc000"
    "0b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400"
    "b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c1"
    "1552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a63"
    "6465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6"
    "b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008"
    "010100003f00fbfcffd9"
)

# One white 16x16 frame, H.264 in a faststart MP4 (libx264): the smallest playable clip.
TINY_MP4 = base64.b64decode(
    "AAAAIGZ0eXBpc29tAAACAGlzb21pc28yYXZjMW1wNDEAAAL9bW9vdgAAAGxtdmhkAAAAAAAAAAAAAAAAAAAD6AAAA+gA"
    "AQAAAQAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAgAAAid0cmFrAAAAXHRraGQAAAADAAAAAAAAAAAAAAABAAAAAAAAA+gAAAAAAAAAAAAAAAAAAAAAAAEA"
    "AAAAAAAAAAAAAAAAAAABAAAAAAAAAAAAAAAAAABAAAAAABAAAAAQAAAAAAAkZWR0cwAAABxlbHN0AAAAAAAAAAEAAAPo"
    "AAAAAAABAAAAAAGfbWRpYQAAACBtZGhkAAAAAAAAAAAAAAAAAABAAAAAQABVxAAAAAAALWhkbHIAAAAAAAAAAHZpZGUA"
    "AAAAAAAAAAAAAABWaWRlb0hhbmRsZXIAAAABSm1pbmYAAAAUdm1oZAAAAAEAAAAAAAAAAAAAACRkaW5mAAAAHGRyZWYA"
    "AAAAAAAAAQAAAAx1cmwgAAAAAQAAAQpzdGJsAAAApnN0c2QAAAAAAAAAAQAAAJZhdmMxAAAAAAAAAAEAAAAAAAAAAAAA"
    "AAAAAAAAABAAEABIAAAASAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGP//AAAALGF2Y0MB"
    "QsAK/+EAFGdCwAraehAAAAMAEAAAAwAg8SJqAQAFaM4BNyAAAAAUYnRydAAAAAAAABK4AAAAAAAAABhzdHRzAAAAAAAA"
    "AAEAAAABAABAAAAAABxzdHNjAAAAAAAAAAEAAAABAAAAAQAAAAEAAAAUc3RzegAAAAAAAAJXAAAAAQAAABRzdGNvAAAA"
    "AAAAAAEAAAMtAAAAYnVkdGEAAABabWV0YQAAAAAAAAAhaGRscgAAAAAAAAAAbWRpcmFwcGwAAAAAAAAAAAAAAAAtaWxz"
    "dAAAACWpdG9vAAAAHWRhdGEAAAABAAAAAExhdmY2Mi4xMi4xMDIAAAAIZnJlZQAAAl9tZGF0AAACRQYF//9B3EXpvebZ"
    "SLeWLNgg2SPu73gyNjQgLSBjb3JlIDE2NSAtIEguMjY0L01QRUctNCBBVkMgY29kZWMgLSBDb3B5bGVmdCAyMDAzLTIw"
    "MjUgLSBodHRwOi8vd3d3LnZpZGVvbGFuLm9yZy94MjY0Lmh0bWwgLSBvcHRpb25zOiBjYWJhYz0wIHJlZj0xIGRlYmxv"
    "Y2s9MDowOjAgYW5hbHlzZT0wOjAgbWU9ZGlhIHN1Ym1lPTAgcHN5PTEgcHN5X3JkPTEuMDA6MC4wMCBtaXhlZF9yZWY9"
    "MCBtZV9yYW5nZT0xNiBjaHJvbWFfbWU9MSB0cmVsbGlzPTAgOHg4ZGN0PTAgY3FtPTAgZGVhZHpvbmU9MjEsMTEgZmFz"
    "dF9wc2tpcD0xIGNocm9tYV9xcF9vZmZzZXQ9MCB0aHJlYWRzPTEgbG9va2FoZWFkX3RocmVhZHM9MSBzbGljZWRfdGhy"
    "ZWFkcz0wIG5yPTAgZGVjaW1hdGU9MSBpbnRlcmxhY2VkPTAgYmx1cmF5X2NvbXBhdD0wIGNvbnN0cmFpbmVkX2ludHJh"
    "PTAgYmZyYW1lcz0wIHdlaWdodHA9MCBrZXlpbnQ9MjUwIGtleWludF9taW49MSBzY2VuZWN1dD0wIGludHJhX3JlZnJl"
    "c2g9MCByYz1jcmYgbWJ0cmVlPTAgY3JmPTQ1LjAgcWNvbXA9MC42MCBxcG1pbj0wIHFwbWF4PTY5IHFwc3RlcD00IGlw"
    "X3JhdGlvPTEuNDAgYXE9MACAAAAACmWIhDomKAAIBGA="
)


def example(
    kind: MessageKind,
    *,
    site: str = "tongren-bijiang-01",
    source: str = "cam-01",
    message_id: str | None = None,
    now: datetime | None = None,
) -> WireModel:
    """A valid message of `kind` from `source` (camera, device or edge id) at `site`."""
    now = now or datetime.now(UTC)
    message_id = message_id or str(uuid.uuid4())
    match kind:
        case MessageKind.EVENT:
            return BehaviourEvent(
                schema_version=SCHEMA_VERSION,
                event_id=message_id,
                episode_id=message_id,
                type=EventType.FALL,
                phase=Phase.START,
                site=site,
                edge="edge-01",
                camera=source,
                camera_name="王秀英家堂屋",
                observed_at=now,
                started_at=now - timedelta(seconds=2),
                confidence=0.87,
                zone="courtyard",
                zone_name="院子",
                zone_tags=("home",),
                track_id=7,
                bbox=BoundingBox(x1=0.41, y1=0.52, x2=0.68, y2=0.83),
                attributes={"down_s": 2.0},
                model=ModelRef(name="yolo11n-pose", version="8.3"),
            )
        case MessageKind.SENSOR:
            return SensorReading(
                schema_version=SCHEMA_VERSION,
                reading_id=message_id,
                site=site,
                device=source,
                device_name="床头",
                sensor_type=SensorType.SOS_BUTTON,
                observed_at=now,
                value=True,
                battery_pct=76.0,
            )
        case MessageKind.STATUS:
            return EdgeStatus(
                schema_version=SCHEMA_VERSION,
                site=site,
                edge=source,
                state=EdgeState.ONLINE,
                session_id=message_id,
                connected_at=now,
            )
        case MessageKind.HEARTBEAT:
            return Heartbeat(
                schema_version=SCHEMA_VERSION,
                site=site,
                edge=source,
                session_id=message_id,
                sent_at=now,
                uptime_s=3600.0,
                fps=9.8,
                inference_ms=22.5,
                cameras={
                    "cam-01": CameraHealth(state=CameraState.ONLINE, name="王秀英家堂屋", fps=4.9)
                },
            )
        case MessageKind.SNAPSHOT:
            return Snapshot.from_jpeg(
                TINY_JPEG, event_id=message_id, site=site, camera=source, width=1, height=1
            )
        case MessageKind.CLIP:
            return Clip.from_mp4(
                TINY_MP4,
                event_id=message_id,
                site=site,
                camera=source,
                width=16,
                height=16,
                starts_at=now - timedelta(seconds=8),
                ends_at=now,
                frames=1,
            )
    raise ValueError(f"no example for kind {kind!r}")


CAMERA_EVENT_TYPES = (
    EventType.INTRUSION,
    EventType.TRIPWIRE,
    EventType.REGION_ENTRANCE,
    EventType.REGION_EXIT,
    EventType.CROWD,
    EventType.MOTION,
    EventType.OBJECT_LEFT,
    EventType.OBJECT_REMOVED,
    EventType.VIDEO_TAMPER,
    EventType.CAMERA_FAULT,
    EventType.CAMERA_ALARM,
)
"""The event types only cameras' own analytics report (GB/T 28181, Hikvision, Dahua)."""


def camera_event_example(
    type_: EventType = EventType.INTRUSION,
    *,
    site: str = "tongren-bijiang-01",
    camera: str = "cam-pond",
    now: datetime | None = None,
) -> BehaviourEvent:
    """An event a camera recognised itself, as the GB/T 28181 gateway publishes it."""
    now = now or datetime.now(UTC)
    event_id = str(uuid.uuid4())
    return BehaviourEvent(
        schema_version=SCHEMA_VERSION,
        event_id=event_id,
        episode_id=event_id,
        type=type_,
        phase=Phase.START,
        origin=EventOrigin.CAMERA,
        site=site,
        edge="52060310001180000001",
        camera=camera,
        observed_at=now,
        started_at=now,
        confidence=1.0,
        attributes={
            "protocol": "gb28181",
            "alarm_code": "5/6",
            "alarm_name": "入侵检测报警",
            "alarm_priority": 1,
            "channel": "52060310001310000001",
        },
    )
