"""MANSCDP (GB/T 28181 annex A): the XML bodies of MESSAGE and NOTIFY, read and written.

Bodies declare their charset in the XML declaration: GB2312 (the 2016 edition's advice),
GB18030 (required by the 2022 edition, 6.10) or UTF-8. GB18030 decodes GB2312 and GBK too.
Element names are matched without regard to case: devices differ (`CmdType`, `cmdType`).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from cameras.wire import Unusable

CONTENT_TYPE = "Application/MANSCDP+xml"
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.-]+)["']""")
_CHINESE = {"gb2312", "gbk", "gb18030", "gb-2312", "cp936", "euc-cn"}
MAX_TEXT = 500


class ManscdpError(Unusable):
    """A MANSCDP body that cannot be used."""


@dataclass(frozen=True, slots=True)
class Keepalive:
    """A device's heartbeat (A.2.5.2): `faulty` lists channels it reports as failed."""

    sn: int
    device_id: str
    ok: bool
    faulty: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm notify (A.2.5.3 in 2016, A.2.5.5 in 2022)."""

    sn: int
    device_id: str
    priority: int
    method: int
    time: datetime | None
    description: str = ""
    longitude: float | None = None
    latitude: float | None = None
    alarm_type: int | None = None
    event_type: int | None = None
    """AlarmTypeParam/EventType: 1 entering the region, 2 leaving it (intrusion)."""


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """One entry of a catalog response: a channel (camera) or a container."""

    device_id: str
    name: str
    status: str = ""
    parent_id: str = ""


@dataclass(frozen=True, slots=True)
class CatalogPage:
    """One MESSAGE of a catalog response; `sum_num` is the total over all pages (annex M)."""

    sn: int
    device_id: str
    sum_num: int
    items: tuple[CatalogItem, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Reply:
    """Any other `<Response>` (device control, subscription): its command and result."""

    cmd_type: str
    sn: int
    device_id: str
    result: str


Body = Keepalive | Alarm | CatalogPage | Reply


def declared_charset(body: bytes) -> str:
    """The charset a body's XML declaration names (UTF-8 if none): answers go back in it."""
    declared = _DECLARED.match(body)
    return declared.group(1).decode() if declared else "UTF-8"


def decode_text(body: bytes) -> str:
    """The body as text, in its declared charset (or UTF-8, then GB18030, if undeclared)."""
    declared = _DECLARED.match(body)
    names = [declared.group(1).decode().lower()] if declared else ["utf-8", "gb18030"]
    for name in names:
        codec = "gb18030" if name in _CHINESE else name
        try:
            return body.decode(codec)
        except LookupError:
            raise ManscdpError("wrong_encoding", f"unknown charset {name!r}") from None
        except UnicodeDecodeError as exc:
            problem = f"not valid {name.upper()} at byte {exc.start}"
    raise ManscdpError("wrong_encoding", problem)


def parse(body: bytes) -> Body:
    """Read a MANSCDP body; raise ManscdpError with the reason when it is unusable."""
    if not body.strip():
        raise ManscdpError("missing_field", "empty body")
    text = decode_text(body)
    try:
        root = fromstring(text)
    except (ParseError, DefusedXmlException) as exc:
        raise ManscdpError("malformed_xml", str(exc)[:200]) from None
    fields = _Fields(root)
    cmd = fields.text("CmdType").lower()
    kind = root.tag.lower()
    if kind == "notify" and cmd == "keepalive":
        info = fields.child("Info")
        faulty = tuple(info.texts("DeviceID")) if info else ()
        return Keepalive(
            fields.integer("SN"),
            fields.device_id(),
            fields.text("Status", "OK").upper() == "OK",
            faulty,
        )
    if kind == "notify" and cmd == "alarm":
        return _alarm(fields)
    if kind == "response" and cmd == "catalog":
        items = fields.child("DeviceList")
        return CatalogPage(
            fields.integer("SN"),
            fields.device_id(),
            fields.integer("SumNum"),
            tuple(_catalog_item(item) for item in (items.children("Item") if items else [])),
        )
    if kind == "response":
        return Reply(
            fields.text("CmdType"),
            fields.integer("SN"),
            fields.device_id(),
            fields.text("Result", "OK"),
        )
    raise ManscdpError("unsupported_command", f"<{root.tag}> {fields.text('CmdType')!r}")


def _alarm(fields: "_Fields") -> Alarm:
    info = fields.child("Info")
    param = info.child("AlarmTypeParam") if info else None
    alarm_type = info.optional_integer("AlarmType") if info else None
    # Some devices put AlarmType directly under <Notify>.
    alarm_type = alarm_type if alarm_type is not None else fields.optional_integer("AlarmType")
    return Alarm(
        sn=fields.integer("SN"),
        device_id=fields.device_id(),
        priority=fields.integer("AlarmPriority", 0, 4),
        method=fields.integer("AlarmMethod", 0, 99),
        time=fields.time("AlarmTime"),
        description=fields.text("AlarmDescription", "")[:MAX_TEXT],
        longitude=fields.coordinate("Longitude", 180.0),
        latitude=fields.coordinate("Latitude", 90.0),
        alarm_type=alarm_type,
        event_type=param.optional_integer("EventType") if param else None,
    )


def _catalog_item(item: "_Fields") -> CatalogItem:
    return CatalogItem(
        device_id=item.device_id(),
        name=item.text("Name", "")[:100],
        status=item.text("Status", "").upper(),
        parent_id=item.text("ParentID", ""),
    )


class _Fields:
    """Case-insensitive access to an element's children, with the errors MANSCDP needs."""

    def __init__(self, element: Element) -> None:
        self.element = element

    def _find(self, name: str) -> list[Element]:
        wanted = name.lower()
        return [child for child in self.element if child.tag.lower() == wanted]

    def child(self, name: str) -> "_Fields | None":
        found = self._find(name)
        return _Fields(found[0]) if found else None

    def children(self, name: str) -> list["_Fields"]:
        return [_Fields(child) for child in self._find(name)]

    def texts(self, name: str) -> list[str]:
        return [(child.text or "").strip() for child in self._find(name)]

    def text(self, name: str, default: str | None = None) -> str:
        found = self._find(name)
        if found and (found[0].text or "").strip():
            return (found[0].text or "").strip()
        if default is None:
            raise ManscdpError("missing_field", f"<{self.element.tag}> has no <{name}>")
        return default

    def integer(self, name: str, low: int = 0, high: int = 2**63) -> int:
        value = self.text(name)
        try:
            number = int(value)
        except ValueError:
            raise ManscdpError("invalid_value", f"<{name}> {value!r} is not a number") from None
        if not low <= number <= high:
            raise ManscdpError("invalid_value", f"<{name}> {number} is not in {low}..{high}")
        return number

    def optional_integer(self, name: str) -> int | None:
        return self.integer(name) if self.text(name, "") else None

    def coordinate(self, name: str, limit: float) -> float | None:
        value = self.text(name, "")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            raise ManscdpError("invalid_value", f"<{name}> {value!r} is not a number") from None
        if not -limit <= number <= limit:
            raise ManscdpError("invalid_value", f"<{name}> {number} is out of range")
        return number

    def time(self, name: str) -> datetime | None:
        value = self.text(name, "")
        if not value:
            return None
        try:
            return datetime.fromisoformat(value.replace(" ", "T"))
        except ValueError:
            raise ManscdpError("invalid_value", f"<{name}> {value!r} is not a time") from None

    def device_id(self) -> str:
        value = self.text("DeviceID")
        if not re.fullmatch(r"[0-9]{20}", value):
            raise ManscdpError("invalid_value", f"DeviceID {value!r} is not a 20-digit code")
        return value


def encode(xml: str, charset: str) -> bytes:
    """A body in `charset` (GB2312 or UTF-8 as the device declared, GB18030 for 2022)."""
    codec = "gb18030" if charset.lower() in _CHINESE else charset
    declaration = f'<?xml version="1.0" encoding="{charset}"?>\r\n'
    return (declaration + xml).encode(codec)


def catalog_query(sn: int, device_id: str, charset: str) -> bytes:
    """A catalog query (A.2.4.3)."""
    body = f"<Query>\r\n<CmdType>Catalog</CmdType>\r\n<SN>{sn}</SN>\r\n"
    return encode(body + f"<DeviceID>{device_id}</DeviceID>\r\n</Query>\r\n", charset)


def alarm_response(sn: int, device_id: str, charset: str) -> bytes:
    """The platform's answer to an alarm notify (A.2.6.4 in 2016)."""
    body = f"<Response>\r\n<CmdType>Alarm</CmdType>\r\n<SN>{sn}</SN>\r\n"
    body += f"<DeviceID>{device_id}</DeviceID>\r\n<Result>OK</Result>\r\n</Response>\r\n"
    return encode(body, charset)


def alarm_reset(sn: int, device_id: str, charset: str) -> bytes:
    """Reset a device alarm (A.2.3.1.3): without it a device sends no further device alarm
    (AlarmMethod 2)."""
    body = f"<Control>\r\n<CmdType>DeviceControl</CmdType>\r\n<SN>{sn}</SN>\r\n"
    body += f"<DeviceID>{device_id}</DeviceID>\r\n<AlarmCmd>ResetAlarm</AlarmCmd>\r\n"
    body += "<Info>\r\n<AlarmMethod>2</AlarmMethod>\r\n</Info>\r\n</Control>\r\n"
    return encode(body, charset)


def alarm_subscription(sn: int, device_id: str, charset: str) -> bytes:
    """The body of an alarm SUBSCRIBE (9.7): every priority, every method."""
    body = f"<Query>\r\n<CmdType>Alarm</CmdType>\r\n<SN>{sn}</SN>\r\n"
    body += f"<DeviceID>{device_id}</DeviceID>\r\n<StartAlarmPriority>1</StartAlarmPriority>\r\n"
    body += "<EndAlarmPriority>4</EndAlarmPriority>\r\n<AlarmMethod>0</AlarmMethod>\r\n"
    return encode(body + "</Query>\r\n", charset)
