"""GB/T 28181 alarm codes (AlarmMethod, AlarmType, EventType) → Shouwang event types.

The codes are those of the 2016 edition's annex A (alarm notify, alarm query), with video
alarm type 13 (图像遮挡报警, image occlusion) that 2022-edition devices send.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from cameras.gb28181.manscdp import Alarm
from shouwang.contracts import EventType

METHODS = {
    1: "电话报警",
    2: "设备报警",
    3: "短信报警",
    4: "GPS报警",
    5: "视频报警",
    6: "设备故障报警",
    7: "其他报警",
}

TYPES: dict[str, tuple[EventType, str]] = {
    "1": (EventType.CAMERA_ALARM, "电话报警"),
    "2": (EventType.CAMERA_ALARM, "设备报警"),
    "2/1": (EventType.CAMERA_OFFLINE, "视频丢失报警"),
    "2/2": (EventType.VIDEO_TAMPER, "设备防拆报警"),
    "2/3": (EventType.CAMERA_FAULT, "存储设备磁盘满报警"),
    "2/4": (EventType.CAMERA_FAULT, "设备高温报警"),
    "2/5": (EventType.CAMERA_FAULT, "设备低温报警"),
    "3": (EventType.CAMERA_ALARM, "短信报警"),
    "4": (EventType.CAMERA_ALARM, "GPS报警"),
    "5": (EventType.CAMERA_ALARM, "视频报警"),
    "5/1": (EventType.CAMERA_ALARM, "人工视频报警"),
    "5/2": (EventType.MOTION, "运动目标检测报警"),
    "5/3": (EventType.OBJECT_LEFT, "遗留物检测报警"),
    "5/4": (EventType.OBJECT_REMOVED, "物体移除检测报警"),
    "5/5": (EventType.TRIPWIRE, "绊线检测报警"),
    "5/6": (EventType.INTRUSION, "入侵检测报警"),
    "5/7": (EventType.CAMERA_ALARM, "逆行检测报警"),
    "5/8": (EventType.LOITERING, "徘徊检测报警"),
    "5/9": (EventType.CROWD, "流量统计报警"),
    "5/10": (EventType.CROWD, "密度检测报警"),
    "5/11": (EventType.VIDEO_TAMPER, "视频异常检测报警"),
    "5/12": (EventType.CAMERA_ALARM, "快速移动报警"),
    "5/13": (EventType.VIDEO_TAMPER, "图像遮挡报警"),
    "6": (EventType.CAMERA_FAULT, "设备故障报警"),
    "6/1": (EventType.CAMERA_FAULT, "存储设备磁盘故障报警"),
    "6/2": (EventType.CAMERA_FAULT, "存储设备风扇故障报警"),
    "7": (EventType.CAMERA_ALARM, "其他报警"),
}
"""`<method>` or `<method>/<type>` → (event type, the standard's name)."""

REGION_EVENTS = {1: EventType.REGION_ENTRANCE, 2: EventType.REGION_EXIT}
"""Intrusion's AlarmTypeParam/EventType: 1 entering the region, 2 leaving it."""


class UnmappedAlarm(ValueError):
    """An alarm whose codes have no mapping."""


@dataclass(frozen=True, slots=True)
class Mapped:
    """What an alarm is in Shouwang's terms."""

    type: EventType
    code: str
    label: str


def map_alarm(alarm: Alarm, extra: Mapping[str, EventType] | None = None) -> Mapped:
    """The event type of `alarm`; `extra` adds or overrides codes (`"5/36"`)."""
    code = str(alarm.method)
    if alarm.alarm_type is not None:
        code += f"/{alarm.alarm_type}"
    if extra and code in extra:
        return Mapped(extra[code], code, code)
    if code not in TYPES:
        method = METHODS.get(alarm.method, "unknown method")
        raise UnmappedAlarm(f"AlarmMethod {alarm.method} ({method}) AlarmType {alarm.alarm_type}")
    type_, label = TYPES[code]
    if code == "5/6" and alarm.event_type in REGION_EVENTS:
        type_ = REGION_EVENTS[alarm.event_type]
    return Mapped(type_, code, label)
