"""Hikvision and Dahua reports, multipart streams and episodes on their own (no I/O)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cameras.vendors import multipart, reports
from cameras.vendors.episodes import Camera, Episodes
from cameras.vendors.service import read_parts
from shouwang.contracts import EventType, Phase
from tests.cameras.vendor_payloads import dahua_part, hik_json, hik_xml, jpeg, part

CAMERA = Camera("site-1", "cam-pond", "camera-events")
NOW = datetime(2026, 12, 2, 13, 30, tzinfo=UTC)


def test_hikvision_xml_and_json_reports() -> None:
    xml = reports.hikvision(hik_xml())
    assert (xml.type, xml.active, xml.channel, xml.region) == (EventType.INTRUSION, True, 1, "1")
    assert xml.attributes["channel_name"] == "池塘" and xml.serial == "1"
    assert xml.at == datetime(2026, 12, 2, 21, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    js = reports.hikvision(hik_json(state="inactive"))
    assert (js.type, js.active) == (EventType.TRIPWIRE, False)
    for event, type_ in [
        ("falldown", EventType.FALL),
        ("shelteralarm", EventType.VIDEO_TAMPER),
        ("regionExiting", EventType.REGION_EXIT),
        ("VMD", EventType.MOTION),
    ]:
        assert reports.hikvision(hik_xml(event)).type is type_
    with pytest.raises(reports.ReportError) as caught:
        reports.hikvision(hik_xml("mysteryEvent"))
    assert caught.value.reason == "unmapped_event"
    with pytest.raises(reports.ReportError) as caught:
        reports.hikvision(b"<EventNotificationAlert><eventType>")
    assert caught.value.reason == "malformed_xml"


def test_dahua_lines() -> None:
    start = reports.dahua(
        'Code=CrossRegionDetection;action=Start;index=1;data={"Direction":"Enter","Name":"pond"}'
    )
    assert (start.type, start.active, start.channel, start.region) == (
        EventType.REGION_ENTRANCE,
        True,
        2,
        "pond",
    )
    assert reports.dahua("Code=VideoMotion;action=Stop;index=0").active is False
    assert reports.dahua("Code=CrossLineDetection;action=Pulse;index=0").active is None
    with pytest.raises(reports.Ignored):
        reports.dahua(
            "Code=_DoTalkAction_;action=Pulse;index=0".replace("_DoTalkAction_", "Heartbeat")
        )
    with pytest.raises(reports.ReportError):
        reports.dahua("Code=VideoMotion;action=Sideways;index=0")


def test_multipart_stream_keeps_a_part_cut_off_unfinished() -> None:
    stream = part("application/xml", hik_xml()) + part("image/jpeg", jpeg())
    cut = part("application/xml", hik_xml(count=2))
    reader = multipart.PartReader("boundary")
    got = []
    for i in range(0, len(stream), 97):  # arriving in pieces
        got += reader.feed(stream[i : i + 97])
    assert [p.content_type for p in got] == ["application/xml", "image/jpeg"]
    assert reader.feed(cut[: len(cut) // 2]) == []  # dropped mid-message: nothing half-read
    found = read_parts("hikvision", got)
    assert len(found) == 1 and found[0][1] == jpeg()  # the picture goes with its report
    dahua = multipart.PartReader("myboundary").feed(
        dahua_part("Code=VideoMotion;action=Start;index=0")
        + dahua_part("Code=VideoMotion;action=Stop;index=0")
    )
    assert [r.active for r, _ in read_parts("dahua", dahua)] == [True, False]


def test_episodes_start_update_end_and_quiet_end() -> None:
    episodes = Episodes(update_interval_s=30, quiet_end_s=15, zone=ZoneInfo("Asia/Shanghai"))
    active = reports.hikvision(hik_xml())
    [(start, shot)] = episodes.observe(CAMERA, active, NOW, jpeg())
    assert start.phase is Phase.START and shot is not None and start.snapshot is not None
    assert start.snapshot.sha256 == shot.sha256 and shot.event_id == start.event_id
    assert episodes.observe(CAMERA, active, NOW + timedelta(seconds=1)) == []  # a repeat
    [(update, _)] = episodes.observe(CAMERA, active, NOW + timedelta(seconds=31))
    assert update.phase is Phase.UPDATE and update.episode_id == start.episode_id
    [(end, _)] = episodes.observe(CAMERA, reports.hikvision(hik_xml(state="inactive")), NOW)
    assert end.phase is Phase.END and end.episode_id == start.episode_id
    # Reported active, then silent: ended after quiet_end_s.
    episodes.observe(CAMERA, reports.hikvision(hik_json()), NOW)
    assert episodes.expire({CAMERA.camera: CAMERA}, NOW + timedelta(seconds=5)) == []
    [(quiet, _)] = episodes.expire({CAMERA.camera: CAMERA}, NOW + timedelta(seconds=16))
    assert quiet.phase is Phase.END and quiet.type is EventType.TRIPWIRE
    # videoloss inactive with nothing open: the alertStream heartbeat, no event.
    assert episodes.observe(CAMERA, reports.hikvision(hik_xml("videoloss", "inactive")), NOW) == []
