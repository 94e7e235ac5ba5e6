"""The GB/T 28181 cores on their own: SIP parsing, digest, MANSCDP bodies, alarm mapping and
the registrar's decisions, without sockets."""

from datetime import datetime

import pytest

from cameras.config import Gb28181Section
from cameras.devices import Device, DeviceTable
from cameras.gb28181 import manscdp
from cameras.gb28181.alarms import TYPES, UnmappedAlarm, map_alarm
from cameras.gb28181.core import Gb28181Core
from cameras.gb28181.manscdp import Alarm, ManscdpError
from cameras.sip.digest import DigestRealm, Verdict, expected_response
from cameras.sip.message import Message, Peer, SipError, frame_length, parse
from shouwang.contracts import EdgeStatus, EventType, Heartbeat

DEVICE, CHANNEL, SERVER = "34020000001320000001", "34020000001310000001", "34020000002000000001"
PEER = Peer("UDP", "10.1.2.3", 5060)


def sip(method: str, *, extra: str = "", body: bytes = b"", call_id: str = "c1") -> bytes:
    head = (
        f"{method} sip:{SERVER}@3402000000 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 10.1.2.3:5060;rport;branch=z9hG4bK{call_id}{method}\r\n"
        f"From: <sip:{DEVICE}@3402000000>;tag=abc\r\nTo: <sip:{DEVICE}@3402000000>\r\n"
        f"Call-ID: {call_id}\r\nCSeq: 1 {method}\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def test_sip_parsing_accepts_gb28181_all_digit_domains_and_refuses_junk() -> None:
    message = parse(sip("REGISTER", extra="Expires: 3600\r\nm: <sip:x@10.1.2.3:5060>\r\n"))
    assert message.method == "REGISTER" and message.from_.uri.user == DEVICE
    assert message.from_.uri.host == "3402000000" and message.from_.params["tag"] == "abc"
    assert message.expires == 3600 and message.contacts[0].uri.port == 5060  # compact "m:"
    assert message.via[0].params["branch"] == "z9hG4bKc1REGISTER"
    assert parse(bytes(message)).headers == message.headers
    for junk, problem in [
        (b"hello", "start line"),
        (sip("MESSAGE").replace(b"Call-ID: c1\r\n", b""), "Call-ID"),
        (sip("MESSAGE", body=b"12345").replace(b"Length: 5", b"Length: 9"), "Content-Length"),
        (sip("MESSAGE").replace(b"Via: SIP/2.0/UDP", b"Via: nonsense"), "Via"),
    ]:
        with pytest.raises(SipError, match=problem):
            parse(junk)


def test_tcp_framing_waits_for_the_whole_body() -> None:
    data = sip("MESSAGE", body=b"<a/>")
    assert frame_length(data[:-2]) is None
    assert frame_length(data + b"MESSAGE") == len(data)


def test_digest_md5_sm3_stale_and_forged_nonces() -> None:
    realm = DigestRealm("3402000000", b"k" * 32, nonce_lifetime_s=60)
    nonce = realm.nonce(1000.0)

    def credentials(password: str, algorithm: str = "MD5", **extra: str) -> dict[str, str]:
        params = {
            "username": DEVICE,
            "realm": "3402000000",
            "nonce": nonce,
            "uri": "sip:x",
            "algorithm": algorithm,
            **extra,
        }
        params["response"] = expected_response(
            algorithm,
            username=DEVICE,
            realm="3402000000",
            password=password,
            method="REGISTER",
            uri="sip:x",
            nonce=params["nonce"],
            qop=extra.get("qop"),
            nc=extra.get("nc", ""),
            cnonce=extra.get("cnonce", ""),
        )
        return params

    def check(params: dict[str, str] | None, now: float = 1010.0) -> Verdict:
        return realm.check(params, method="REGISTER", password="pw", now=now)

    assert check(None) is Verdict.MISSING
    assert check(credentials("pw")) is Verdict.OK
    assert check(credentials("pw", "SM3")) is Verdict.OK
    assert check(credentials("pw", qop="auth", nc="00000001", cnonce="xyz")) is Verdict.OK
    assert check(credentials("wrong")) is Verdict.WRONG
    assert check(credentials("pw"), now=1100.0) is Verdict.STALE
    forged = credentials("pw")
    forged["nonce"] = DigestRealm("3402000000", b"other" * 8).nonce(1000.0)
    assert check(forged) is Verdict.WRONG
    # RFC 2617 3.5's example (MD5, qop=auth).
    assert (
        expected_response(
            "MD5",
            username="Mufasa",
            realm="testrealm@host.com",
            password="Circle Of Life",
            method="GET",
            uri="/dir/index.html",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            qop="auth",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


ALARM = (
    '<?xml version="1.0" encoding="{charset}"?>\r\n<Notify>\r\n<{cmd}>Alarm</{cmd}>\r\n'
    "<SN>7</SN>\r\n<DeviceID>{channel}</DeviceID>\r\n<AlarmPriority>2</AlarmPriority>\r\n"
    "<AlarmMethod>5</AlarmMethod>\r\n<AlarmTime>2026-12-02T21:30:00</AlarmTime>\r\n"
    "<AlarmDescription>池塘边有人闯入</AlarmDescription>\r\n<Longitude>108.9</Longitude>\r\n"
    "<Latitude>27.7</Latitude>\r\n<Info><AlarmType>6</AlarmType><AlarmTypeParam><EventType>1"
    "</EventType></AlarmTypeParam></Info>\r\n</Notify>\r\n"
)


@pytest.mark.parametrize(
    ("charset", "codec", "cmd"),
    [
        ("GB2312", "gb2312", "CmdType"),
        ("GB18030", "gb18030", "cmdType"),
        ("UTF-8", "utf-8", "CmdType"),
    ],
)
def test_alarm_bodies_in_each_charset(charset: str, codec: str, cmd: str) -> None:
    body = ALARM.format(charset=charset, cmd=cmd, channel=CHANNEL).encode(codec)
    alarm = manscdp.parse(body)
    assert isinstance(alarm, Alarm)
    assert (alarm.sn, alarm.device_id, alarm.priority, alarm.method) == (7, CHANNEL, 2, 5)
    assert (alarm.alarm_type, alarm.event_type) == (6, 1)
    assert alarm.description == "池塘边有人闯入" and alarm.time == datetime(2026, 12, 2, 21, 30)
    assert map_alarm(alarm).type is EventType.REGION_ENTRANCE


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "missing_field"),
        (b'<?xml version="1.0" encoding="GB2312"?><Notify><CmdType>Alarm', "malformed_xml"),
        ('<?xml version="1.0" encoding="UTF-8"?><a>池</a>'.encode("gb2312"), "wrong_encoding"),
        (b'<?xml version="1.0" encoding="KOI9"?><a/>', "wrong_encoding"),
        (
            b"<Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>123</DeviceID></Notify>",
            "invalid_value",
        ),
        (b"<Notify><CmdType>Alarm</CmdType><SN>x</SN></Notify>", "invalid_value"),
        (b"<Control><CmdType>DeviceControl</CmdType></Control>", "unsupported_command"),
        (b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', "malformed_xml"),
    ],
)
def test_unusable_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(ManscdpError) as caught:
        manscdp.parse(body)
    assert caught.value.reason == reason


def test_every_standard_alarm_code_maps_and_others_do_not() -> None:
    for code, (type_, label) in TYPES.items():
        method, _, kind = code.partition("/")
        alarm = Alarm(1, CHANNEL, 1, int(method), None, alarm_type=int(kind) if kind else None)
        mapped = map_alarm(alarm)
        assert (mapped.type, mapped.label, mapped.code) == (type_, label, code)
    vendor = Alarm(1, CHANNEL, 1, 5, None, alarm_type=36)
    with pytest.raises(UnmappedAlarm):
        map_alarm(vendor)
    assert map_alarm(vendor, {"5/36": EventType.CAMERA_ALARM}).type is EventType.CAMERA_ALARM


def core(**settings: object) -> Gb28181Core:
    section = Gb28181Section(domain="3402000000", server_id=SERVER, **settings)  # type: ignore[arg-type]
    devices = DeviceTable(
        [Device(DEVICE, "site-1", password="pw"), Device(CHANNEL, "site-1", "cam-1")]
    )
    return Gb28181Core(section, devices, DigestRealm("3402000000", b"s" * 32), "tag1")


def authorised(core_: Gb28181Core, expires: int, now: float, call_id: str = "c1") -> Message:
    first = core_.handle(
        parse(sip("REGISTER", extra=f"Expires: {expires}\r\n", call_id=call_id)), PEER, None, now
    )
    assert first.response is not None and first.response.code == 401
    challenge = first.response.get("WWW-Authenticate") or ""
    nonce = challenge.split('nonce="')[1].split('"')[0]
    answer = expected_response(
        "MD5",
        username=DEVICE,
        realm="3402000000",
        password="pw",
        method="REGISTER",
        uri="sip:x",
        nonce=nonce,
    )
    auth = (
        f'Authorization: Digest username="{DEVICE}", realm="3402000000", nonce="{nonce}", '
        f'uri="sip:x", response="{answer}", algorithm=MD5\r\n'
    )
    return parse(sip("REGISTER", extra=f"Expires: {expires}\r\n{auth}", call_id=call_id))


def test_register_refresh_keepalive_loss_and_unregister() -> None:
    gb = core(min_expires_s=60, keepalive_interval_s=60, keepalive_misses=3)
    brief = gb.handle(authorised(gb, 30, 1000.0), PEER, None, 1000.0)
    assert brief.response is not None and brief.response.code == 423
    assert brief.response.get("Min-Expires") == "60"
    first = gb.handle(authorised(gb, 3600, 1000.0), PEER, None, 1000.0)
    assert first.response is not None and first.response.code == 200
    assert first.response.get("X-GB-Ver") == "3.0" and first.save is not None
    assert [type(p.message) for p in first.publish] == [EdgeStatus]
    registration = first.save
    refresh = gb.handle(authorised(gb, 3600, 1500.0), PEER, registration, 1500.0)
    assert refresh.publish == [] and refresh.save is not None
    assert refresh.save.session_id == registration.session_id  # the same session goes on
    keepalive = b'<?xml version="1.0" encoding="GB2312"?><Notify><CmdType>Keepalive</CmdType>'
    keepalive += f"<SN>2</SN><DeviceID>{DEVICE}</DeviceID><Status>OK</Status><Info>".encode()
    keepalive += f"<DeviceID>{CHANNEL}</DeviceID></Info></Notify>".encode()
    beat = gb.handle(parse(sip("MESSAGE", body=keepalive, call_id="k")), PEER, refresh.save, 1510.0)
    assert beat.save is not None and beat.save.faulty == (CHANNEL,)
    assert isinstance(beat.publish[0].message, Heartbeat) and not beat.publish[0].confirm
    assert gb.overdue(beat.save, 1600.0).publish == []  # not yet: 3 × 60 s
    lost = gb.overdue(beat.save, 1700.0)
    assert isinstance(lost.publish[0].message, EdgeStatus)
    assert lost.publish[0].message.state.value == "offline" and "3 missed" in lost.note
    assert lost.save is not None and not lost.save.online and not lost.forget
    back = gb.handle(parse(sip("MESSAGE", body=keepalive, call_id="k2")), PEER, lost.save, 1710.0)
    status = back.publish[0].message
    assert isinstance(status, EdgeStatus) and status.state.value == "online"
    assert status.session_id != registration.session_id  # a new session, ordered after
    gone = gb.handle(authorised(gb, 0, 1720.0, "c1"), PEER, back.save, 1720.0)
    assert gone.forget and gone.publish[0].message.reason == "unregistered"  # type: ignore[union-attr]


def test_unknown_devices_and_wrong_digests_are_refused() -> None:
    gb = core()
    stranger = sip("REGISTER").replace(DEVICE.encode(), b"34020000001329999999")
    refused = gb.handle(parse(stranger), PEER, None, 1000.0)
    assert refused.response is not None and refused.response.code == 403
    bad = authorised(gb, 3600, 1000.0)
    bad.headers = [(k, v.replace('response="', 'response="0')) for k, v in bad.headers]
    wrong = gb.handle(bad, PEER, None, 1000.0)
    assert wrong.response is not None and wrong.response.code == 403 and wrong.save is None


def test_after_registering_the_catalog_is_asked_for_and_alarms_subscribed() -> None:
    gb = core(query_catalog=True, subscribe_alarms=True, subscription_expires_s=600)
    first = gb.handle(authorised(gb, 3600, 1000.0), PEER, None, 1000.0)
    query, subscribe = first.requests
    assert query.method == "MESSAGE" and b"<CmdType>Catalog</CmdType>" in query.body
    assert subscribe.method == "SUBSCRIBE" and subscribe.headers["Expires"] == "600"
    assert (
        b"<CmdType>Alarm</CmdType>" in subscribe.body and subscribe.headers["Event"] == "presence"
    )
    assert query.body.startswith(b'<?xml version="1.0" encoding="GB2312"?>')
    page = (
        '<?xml version="1.0" encoding="GB2312"?><Response><CmdType>Catalog</CmdType><SN>1</SN>'
        f'<DeviceID>{DEVICE}</DeviceID><SumNum>2</SumNum><DeviceList Num="1"><Item>'
        f"<DeviceID>{CHANNEL}</DeviceID><Name>村口池塘</Name><Status>ON</Status></Item>"
        "</DeviceList></Response>"
    ).encode("gb2312")
    assert first.save is not None
    stored = gb.handle(parse(sip("MESSAGE", body=page, call_id="cat")), PEER, first.save, 1001.0)
    assert stored.save is not None and stored.save.channels == {CHANNEL: "村口池塘"}
    # A later alarm from that channel carries its name; a device alarm is reset afterwards.
    alarm = ALARM.format(charset="GB2312", cmd="CmdType", channel=CHANNEL).encode("gb2312")
    alarm = alarm.replace(b"<AlarmMethod>5</AlarmMethod>", b"<AlarmMethod>2</AlarmMethod>")
    alarm = alarm.replace(b"<AlarmType>6</AlarmType>", b"<AlarmType>1</AlarmType>")
    outcome = gb.handle(parse(sip("MESSAGE", body=alarm, call_id="al")), PEER, stored.save, 1002.0)
    event = outcome.publish[0].message
    assert event.type is EventType.CAMERA_OFFLINE  # type: ignore[union-attr]
    assert event.attributes["channel_name"] == "村口池塘"  # type: ignore[union-attr]
    assert event.camera_name == "村口池塘"  # type: ignore[union-attr]  # shown instead of the id
    assert [r.method for r in outcome.requests] == ["MESSAGE", "MESSAGE"]
    assert b"<AlarmCmd>ResetAlarm</AlarmCmd>" in outcome.requests[1].body
