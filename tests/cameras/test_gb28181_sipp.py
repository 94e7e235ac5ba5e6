"""GB/T 28181 against sipp as the device, through the real broker, ingest and Redis."""

from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from ingest.worker import IngestWorker
from tests.cameras.conftest import Names
from tests.cameras.gateway import (
    GatewayThread,
    csv_of,
    device_code,
    sipp,
    stream_payloads,
    wait_for,
)
from tests.helpers.mosquitto import free_port

pytestmark = pytest.mark.integration


def alarm_body(
    channel: str,
    sn: int,
    method: int,
    type_: int | None,
    charset: str,
    description: str = "池塘边有人闯入",
    event_type: int | None = None,
) -> bytes:
    info = ""
    if type_ is not None:
        param = (
            f"<AlarmTypeParam><EventType>{event_type}</EventType></AlarmTypeParam>"
            if event_type
            else ""
        )
        info = f"<Info><AlarmType>{type_}</AlarmType>{param}</Info>"
    xml = (
        f'<?xml version="1.0" encoding="{charset}"?><Notify><CmdType>Alarm</CmdType>'
        f"<SN>{sn}</SN><DeviceID>{channel}</DeviceID><AlarmPriority>1</AlarmPriority>"
        f"<AlarmMethod>{method}</AlarmMethod><AlarmTime>2026-12-02T21:30:00</AlarmTime>"
        f"<AlarmDescription>{description}</AlarmDescription>"
        f"<Longitude>108.91</Longitude><Latitude>27.73</Latitude>{info}</Notify>"
    )
    return xml.encode("gb18030" if charset.upper().startswith("GB") else "utf-8")


def test_register_keepalive_alarm_and_refusals(
    ns: Names,
    redis_client: redis.Redis,
    ingest: IngestWorker,
    gateway: Callable[..., GatewayThread],
    tmp_path: Path,
) -> None:
    device, channel = device_code("132"), device_code("131")
    gw = gateway(
        [
            {"id": device, "site": ns.site, "password": "s3cret", "name": "马岩村池塘"},
            {
                "id": channel,
                "site": ns.site,
                "camera": "pond-cam",
                "name": "池塘",
                "device": device,
            },
        ]
    )
    port = free_port()
    done = sipp("register.xml", gw.port, device, local_port=port, password="s3cret")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    status = wait_for(
        lambda: [e for e in stream_payloads(redis_client, ns.stream) if e["kind"] == "status"]
    )
    assert status[0]["payload"]["state"] == "online" and status[0]["source"] == device

    bodies = [
        alarm_body(channel, 10, 5, 6, "GB2312"),
        alarm_body(device, 11, 5, 5, "UTF-8", "绊线"),
    ]
    inf = tmp_path / "alarms.csv"
    inf.write_bytes(csv_of(bodies))
    trace = tmp_path / "trace.log"
    done = sipp("alarm.xml", gw.port, device, local_port=port, calls=2, inf=inf, trace=trace)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    events = wait_for(
        lambda: (
            [e for e in stream_payloads(redis_client, ns.stream) if e["kind"] == "event"]
            if len([e for e in stream_payloads(redis_client, ns.stream) if e["kind"] == "event"])
            == 2
            else None
        )
    )
    by_type = {e["payload"]["type"]: e["payload"] for e in events}
    assert by_type["intrusion"]["camera"] == "pond-cam"
    assert by_type["intrusion"]["attributes"]["description"] == "池塘边有人闯入"
    assert by_type["intrusion"]["origin"] == "camera"
    assert by_type["tripwire"]["camera"] == device

    wrong = sipp("register_refused.xml", gw.port, device, local_port=free_port(), password="nope")
    assert wrong.returncode == 0, wrong.stderr.decode(errors="replace")


def test_bad_messages_are_dead_lettered_with_their_reason(
    ns: Names,
    redis_client: redis.Redis,
    ingest: IngestWorker,
    gateway: Callable[..., GatewayThread],
    tmp_path: Path,
) -> None:
    device, stranger = device_code("132"), device_code("132")
    gw = gateway([{"id": device, "site": ns.site, "password": "pw"}], keepalive_interval_s=0.5)
    port = free_port()
    assert sipp("register.xml", gw.port, device, local_port=port, password="pw").returncode == 0
    bodies = [
        b'<?xml version="1.0" encoding="GB2312"?><Notify><CmdType>Alarm</CmdType><SN>1',
        alarm_body(device, 2, 5, 6, "UTF-8")
        .replace(b"UTF-8", b"GB2312")
        .replace("池塘".encode(), b"\xff\xfe"),
        alarm_body(device, 3, 9, None, "UTF-8"),
        alarm_body(device, 4, 5, 6, "UTF-8").replace(b"<AlarmPriority>1</AlarmPriority>", b""),
    ]
    inf = tmp_path / "bad.csv"
    inf.write_bytes(csv_of(bodies))
    done = sipp("refused.xml", gw.port, device, local_port=port, calls=4, inf=inf)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    stranger_inf = tmp_path / "stranger.csv"
    stranger_inf.write_bytes(csv_of([alarm_body(stranger, 5, 5, 6, "UTF-8")]))
    done = sipp("refused.xml", gw.port, stranger, local_port=free_port(), inf=stranger_inf)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    reasons = wait_for(
        lambda: (
            [e["reason"] for e in stream_payloads(redis_client, ns.deadletter)]
            if len(redis_client.xrange(ns.deadletter)) >= 5
            else None
        )
    )
    assert sorted(reasons) == sorted(
        [
            "malformed_xml",
            "wrong_encoding",
            "unmapped_alarm",
            "missing_field",
            "unregistered_device",
        ]
    )
    # Keepalives stop: after 3 missed (0.5 s each) the device is offline, with the reason.
    offline = wait_for(
        lambda: [
            e
            for e in stream_payloads(redis_client, ns.stream)
            if e["kind"] == "status" and e["payload"]["state"] == "offline"
        ],
        timeout=15,
    )
    assert "keepalive" in offline[0]["payload"]["reason"]
    assert not [e for e in stream_payloads(redis_client, ns.stream) if e["kind"] == "event"]


def test_every_mapped_alarm_in_gb2312_and_utf8_then_unregister(
    ns: Names,
    redis_client: redis.Redis,
    ingest: IngestWorker,
    gateway: Callable[..., GatewayThread],
    tmp_path: Path,
) -> None:
    from cameras.gb28181.alarms import TYPES

    device = device_code("118")
    gw = gateway([{"id": device, "site": ns.site, "password": "pw"}], reset_device_alarms=True)
    port = free_port()
    assert sipp("register.xml", gw.port, device, local_port=port, password="pw").returncode == 0
    bodies, expected = [], []
    for sn, (code, (type_, _)) in enumerate(sorted(TYPES.items()), start=100):
        method, _, kind = code.partition("/")
        charset = "GB2312" if sn % 2 else "UTF-8"
        bodies.append(alarm_body(device, sn, int(method), int(kind) if kind else None, charset))
        expected.append(type_.value)
    inf = tmp_path / "all.csv"
    inf.write_bytes(csv_of(bodies))
    trace = tmp_path / "trace.log"
    done = sipp(
        "alarm.xml",
        gw.port,
        device,
        local_port=port,
        calls=len(bodies),
        rate=50,
        inf=inf,
        trace=trace,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")

    def stored() -> list[dict[str, object]]:
        return [
            e["payload"] for e in stream_payloads(redis_client, ns.stream) if e["kind"] == "event"
        ]

    events = wait_for(lambda: stored() if len(stored()) == len(bodies) else None)
    assert sorted(e["type"] for e in events) == sorted(expected)  # type: ignore[index]
    assert {e["attributes"]["description"] for e in events} == {"池塘边有人闯入"}  # type: ignore[index]
    # The platform answered each alarm (and reset the device alarms) in the device's charset.
    answers = trace.read_bytes()
    assert answers.count(b"<CmdType>Alarm</CmdType>") >= len(bodies)
    assert b"<AlarmCmd>ResetAlarm</AlarmCmd>" in answers
    assert sipp("unregister.xml", gw.port, device, local_port=port, password="pw").returncode == 0
    offline = wait_for(
        lambda: [
            e
            for e in stream_payloads(redis_client, ns.stream)
            if e["kind"] == "status" and e["payload"]["state"] == "offline"
        ]
    )
    assert offline[-1]["payload"]["reason"] == "unregistered"


def test_tcp_device_is_offline_when_its_connection_closes(
    ns: Names,
    redis_client: redis.Redis,
    ingest: IngestWorker,
    gateway: Callable[..., GatewayThread],
) -> None:
    device = device_code("132")
    gw = gateway([{"id": device, "site": ns.site, "password": "pw"}])
    done = sipp(
        "register.xml", gw.port, device, local_port=free_port(), password="pw", transport="t1"
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    states = wait_for(
        lambda: (
            [
                e["payload"]["state"]
                for e in stream_payloads(redis_client, ns.stream)
                if e["kind"] == "status"
            ]
            if len([e for e in stream_payloads(redis_client, ns.stream) if e["kind"] == "status"])
            >= 2
            else None
        )
    )
    assert states == ["online", "offline"]
    last = [e for e in stream_payloads(redis_client, ns.stream) if e["kind"] == "status"][-1]
    assert last["payload"]["reason"] == "TCP connection closed"
