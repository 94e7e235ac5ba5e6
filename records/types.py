"""Enumerations stored in the records (as their string values)."""

from enum import StrEnum


class AreaLevel(StrEnum):
    """Level of the administrative hierarchy, top down."""

    COUNTY = "county"
    TOWN = "town"
    VILLAGE = "village"
    GRID = "grid"


class Category(StrEnum):
    """Who a watch-list person is."""

    ELDER = "elder"
    CHILD = "child"


class StaffRole(StrEnum):
    """What a staff member does; grid workers serve a grid, the others a town or county."""

    GRID_WORKER = "grid_worker"
    DUTY_OFFICER = "duty_officer"
    POLICE = "police"
    SUPERVISOR = "supervisor"
    """Leads a town's or county's office: told of overdue cases, urges them (督办)."""


class SourceKind(StrEnum):
    """What a coverage entry maps: a camera (optionally one zone of it), a sensor or an edge."""

    CAMERA = "camera"
    SENSOR = "sensor"
    EDGE = "edge"


class DeviceProtocol(StrEnum):
    """How a third-party sensor reaches the sensor bridge."""

    ZIGBEE2MQTT = "zigbee2mqtt"
    """`zigbee2mqtt/<friendly_name>` JSON state; the address is the IEEE address or the name."""
    HOMEASSISTANT = "homeassistant"
    """Home Assistant MQTT Statestream `<base>/<domain>/<object_id>/state`; the address is the
    entity id (`binary_sensor.front_door`)."""


class Severity(StrEnum):
    """How urgent an alert is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_WORDS: dict[str, dict[Severity, str]] = {
    "zh": {
        Severity.LOW: "提示",
        Severity.MEDIUM: "注意",
        Severity.HIGH: "警告",
        Severity.CRITICAL: "危急",
    },
    "en": {
        Severity.LOW: "Notice",
        Severity.MEDIUM: "Caution",
        Severity.HIGH: "Warning",
        Severity.CRITICAL: "Critical",
    },
}
"""The one word set for severities, by language: the pages, pushes, SMS and voice templates
and the demo's terminal all say these."""
SEVERITY_LABELS: dict[str, str] = {s.value: word for s, word in SEVERITY_WORDS["zh"].items()}
"""The Chinese words by severity value, as messages (pushes, SMS, voice) say them."""


class AlertStatus(StrEnum):
    """Alert lifecycle: new → acknowledged → dispatched → resolved → followed_up → archived,
    and false_alarm; people move alerts along it, the rules engine only creates them."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    FOLLOWED_UP = "followed_up"
    ARCHIVED = "archived"
    FALSE_ALARM = "false_alarm"


class AuditAction(StrEnum):
    """What an audit-trail row records besides status changes (which keep the status as is)."""

    STATUS = "status"
    """A lifecycle transition (or the creation by the rules)."""
    FAMILY_RESPONSE = "family_response"
    """A guardian answered "我来处理" (家属已响应); the official ladder runs on."""
    ARRIVAL = "arrival"
    """A grid worker or officer is on site (已到场); it stops the arrival timer."""
    URGE = "urge"
    """A supervisor urged the case on (督办), with a note the staff on it are told."""


OPEN_STATUSES = frozenset({AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.DISPATCHED})
"""Statuses in which an alert still collects repeated events (grouping and cooldown)."""
