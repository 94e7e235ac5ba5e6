"""Event reports in the vendors' formats (ISAPI EventNotificationAlert, Dahua attach lines),
as their documentation shows them, and a JPEG, for the camera stand-ins."""

import io

from PIL import Image

HIK_XML = """<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">
<ipAddress>192.168.1.64</ipAddress>
<portNo>80</portNo>
<protocol>HTTP</protocol>
<macAddress>44:19:b6:6d:24:85</macAddress>
<channelID>1</channelID>
<dateTime>2026-12-02T21:30:00+08:00</dateTime>
<activePostCount>{count}</activePostCount>
<eventType>{event}</eventType>
<eventState>{state}</eventState>
<eventDescription>{event} alarm</eventDescription>
<channelName>池塘</channelName>
<DetectionRegionList>
<DetectionRegionEntry>
<regionID>1</regionID>
<sensitivityLevel>50</sensitivityLevel>
</DetectionRegionEntry>
</DetectionRegionList>
</EventNotificationAlert>
"""

HIK_JSON = (
    '{{"ipAddress":"192.168.1.64","portNo":80,"protocol":"HTTP","macAddress":"44:19:b6:6d:24:85",'
    '"channelID":1,"dateTime":"2026-12-02T21:30:05+08:00","activePostCount":{count},'
    '"eventType":"{event}","eventState":"{state}","eventDescription":"{event} alarm",'
    '"channelName":"学校路口"}}'
)


def hik_xml(event: str = "fielddetection", state: str = "active", count: int = 1) -> bytes:
    return HIK_XML.format(event=event, state=state, count=count).encode()


def hik_json(event: str = "linedetection", state: str = "active", count: int = 1) -> bytes:
    return HIK_JSON.format(event=event, state=state, count=count).encode()


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def part(content_type: str, body: bytes, boundary: str = "boundary", name: str = "") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"\r\n' if name else ""
    return (
        (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n{disposition}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        + b"\r\n"
    )


def dahua_part(line: str) -> bytes:
    return part("text/plain", line.encode() + b"\r\n", boundary="myboundary")
