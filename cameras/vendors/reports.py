"""Hikvision ISAPI and Dahua event reports, read into one form (pure: no I/O).

Hikvision: `EventNotificationAlert` as XML (ISAPI schema, `ver20`/`ver10` or isapi.org
namespaces) or JSON, posted to an HTTP listening host or sent on
`/ISAPI/Event/notification/alertStream`; `eventState` active/inactive.
Dahua: lines `Code=…;action=Start|Stop|Pulse;index=N[;data={json}]` on
`/cgi-bin/eventManager.cgi?action=attach`.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from cameras.wire import Unusable
from shouwang.contracts import EventType


class ReportError(Unusable):
    """A vendor report that cannot be used."""


@dataclass(frozen=True, slots=True)
class Report:
    """One event report of a camera."""

    vendor: str
    code: str
    """The vendor's own event name (`fielddetection`, `CrossLineDetection`)."""
    type: EventType
    active: bool | None
    """True: it started or goes on; False: it ended; None: a one-off (Dahua `Pulse`)."""
    channel: int
    at: datetime | None = None
    description: str = ""
    region: str = ""
    """Rule or region the camera names, if any (becomes the event's zone)."""
    serial: str = ""
    """What tells a report from its resent copy (Hikvision's activePostCount)."""
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)


HIKVISION_TYPES = {
    "vmd": EventType.MOTION,
    "fielddetection": EventType.INTRUSION,
    "linedetection": EventType.TRIPWIRE,
    "regionentrance": EventType.REGION_ENTRANCE,
    "regionexiting": EventType.REGION_EXIT,
    "loitering": EventType.LOITERING,
    "group": EventType.CROWD,
    "peoplegathering": EventType.CROWD,
    "unattendedbaggage": EventType.OBJECT_LEFT,
    "attendedbaggage": EventType.OBJECT_REMOVED,
    "videoloss": EventType.CAMERA_OFFLINE,
    "shelteralarm": EventType.VIDEO_TAMPER,
    "tamperdetection": EventType.VIDEO_TAMPER,
    "scenechangedetection": EventType.VIDEO_TAMPER,
    "defocus": EventType.VIDEO_TAMPER,
    "falldown": EventType.FALL,
    "hdfull": EventType.CAMERA_FAULT,
    "hderror": EventType.CAMERA_FAULT,
    "io": EventType.CAMERA_ALARM,
}
"""Lower-case ISAPI eventType → event type."""

DAHUA_TYPES = {
    "videomotion": EventType.MOTION,
    "crosslinedetection": EventType.TRIPWIRE,
    "crossregiondetection": EventType.INTRUSION,
    "wanderdetection": EventType.LOITERING,
    "crowddetection": EventType.CROWD,
    "rioterdetection": EventType.CROWD,
    "leftdetection": EventType.OBJECT_LEFT,
    "takenawaydetection": EventType.OBJECT_REMOVED,
    "videoloss": EventType.CAMERA_OFFLINE,
    "videoblind": EventType.VIDEO_TAMPER,
    "videoabnormaldetection": EventType.VIDEO_TAMPER,
    "falldetection": EventType.FALL,
    "storagefailure": EventType.CAMERA_FAULT,
    "storagenotexist": EventType.CAMERA_FAULT,
    "storagelowspace": EventType.CAMERA_FAULT,
    "alarmlocal": EventType.CAMERA_ALARM,
}
"""Lower-case Dahua event Code → event type."""

IGNORED = {"heartbeat", "newfile", "timechange", "ntpadjusttime", "loginfailure"}
"""Reports that are not events (keep-alives, housekeeping)."""


class Ignored(Exception):
    """A report that is no event (a heartbeat)."""


def hikvision(body: bytes) -> Report:
    """An EventNotificationAlert in XML or JSON."""
    text = body.strip()
    if not text:
        raise ReportError("missing_field", "empty report")
    values = _hik_json(text) if text[:1] == b"{" else _hik_xml(text)
    code = str(values.get("eventtype", "")).strip()
    if not code:
        raise ReportError("missing_field", "no eventType")
    if code.lower() in IGNORED:
        raise Ignored(code)
    type_ = HIKVISION_TYPES.get(code.lower())
    if type_ is None:
        raise ReportError("unmapped_event", f"Hikvision eventType {code!r}")
    state = str(values.get("eventstate", "active")).lower()
    if state not in ("active", "inactive"):
        raise ReportError("invalid_value", f"eventState {state!r}")
    channel = _integer(values.get("channelid") or values.get("dynchannelid") or 1, "channelID")
    region = values.get("regionid") or values.get("ruleid") or ""
    attributes: dict[str, str | int | float | bool] = {"vendor_event": code}
    for key, name in (("channelname", "channel_name"), ("ipaddress", "camera_ip")):
        if values.get(key):
            attributes[name] = str(values[key])[:200]
    return Report(
        vendor="hikvision",
        code=code,
        type=type_,
        active=state == "active",
        channel=channel,
        at=_time(str(values.get("datetime", ""))),
        description=str(values.get("eventdescription", ""))[:200],
        region=str(region)[:64],
        serial=str(values.get("activepostcount", "")),
        attributes=attributes,
    )


def _hik_xml(text: bytes) -> dict[str, str]:
    try:
        root = fromstring(text)
    except (ParseError, DefusedXmlException) as exc:
        raise ReportError("malformed_xml", str(exc)[:200]) from None
    if _local(root.tag).lower() != "eventnotificationalert":
        raise ReportError("unsupported_command", f"<{_local(root.tag)}> is not an event")
    values: dict[str, str] = {}
    for element in root.iter():
        name = _local(element.tag).lower()
        if element.text and element.text.strip() and name not in values:
            values[name] = element.text.strip()
    return values


def _hik_json(text: bytes) -> dict[str, str]:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportError("invalid_json", str(exc)[:200]) from None
    if not isinstance(data, dict):
        raise ReportError("invalid_json", "not an object")
    data = data.get("EventNotificationAlert", data)
    values: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict | list):
                    walk(value)
                elif value is not None and key.lower() not in values:
                    values[key.lower()] = str(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return values


def dahua(line: str) -> Report:
    """One `Code=…;action=…;index=…` report."""
    fields: dict[str, str] = {}
    data_text = ""
    head, marker, rest = line.strip().partition(";data=")
    if marker:
        data_text = rest
    for item in head.split(";"):
        name, _, value = item.partition("=")
        if name.strip():
            fields[name.strip().lower()] = value.strip()
    code = fields.get("code", "")
    if not code:
        raise ReportError("missing_field", f"no Code in {line[:80]!r}")
    if code.lower() in IGNORED:
        raise Ignored(code)
    type_ = DAHUA_TYPES.get(code.lower())
    if type_ is None:
        raise ReportError("unmapped_event", f"Dahua Code {code!r}")
    action = fields.get("action", "").lower()
    if action not in ("start", "stop", "pulse"):
        raise ReportError("invalid_value", f"action {fields.get('action')!r}")
    data: dict[str, object] = {}
    if data_text:
        try:
            parsed = json.loads(data_text)
        except ValueError:
            raise ReportError("invalid_json", f"data of {code}: {data_text[:80]!r}") from None
        data = parsed if isinstance(parsed, dict) else {}
    direction = str(data.get("Direction", "")).lower()
    if type_ is EventType.INTRUSION and direction in ("enter", "leave"):
        type_ = EventType.REGION_ENTRANCE if direction == "enter" else EventType.REGION_EXIT
    index = _integer(fields.get("index", "0"), "index")
    attributes: dict[str, str | int | float | bool] = {"vendor_event": code}
    if data.get("Name"):
        attributes["rule_name"] = str(data["Name"])[:200]
    return Report(
        vendor="dahua",
        code=code,
        type=type_,
        active={"start": True, "stop": False}.get(action),
        channel=index + 1,
        at=_time(str(data.get("LocaleTime", ""))),
        region=str(data.get("Name", ""))[:64],
        serial=str(data.get("EventID", "")),
        attributes=attributes,
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _integer(value: object, name: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ReportError("invalid_value", f"{name} {value!r} is not a number") from None


def _time(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    value = re.sub(r"Z$", "+00:00", value.replace(" ", "T"))
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ReportError("invalid_value", f"dateTime {value!r} is not a time") from None
