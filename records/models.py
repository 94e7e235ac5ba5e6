"""Every record table, imported together so the metadata is complete (migrations, tests)."""

from records.alerts import (
    Alert,
    AlertEvent,
    AlertGroup,
    AlertPerson,
    AlertTransition,
    EventSnapshot,
    OutboxEntry,
)
from records.base import Base
from records.cameras import CameraDevice
from records.devices import DeviceAssignment, SensorDevice, UnassignedDevice
from records.notifications import (
    Delivery,
    Notification,
    PushSubscription,
    QuietHours,
    VapidKey,
)
from records.people import (
    Area,
    Coverage,
    Guardian,
    Guardianship,
    Household,
    Person,
    Site,
    Staff,
    WatchlistChange,
)
from records.users import ApiSecret, AuthSession, Invite, User

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertGroup",
    "AlertPerson",
    "AlertTransition",
    "ApiSecret",
    "Area",
    "AuthSession",
    "Base",
    "CameraDevice",
    "Coverage",
    "Delivery",
    "DeviceAssignment",
    "EventSnapshot",
    "Guardian",
    "Guardianship",
    "Household",
    "Invite",
    "Notification",
    "OutboxEntry",
    "Person",
    "PushSubscription",
    "QuietHours",
    "SensorDevice",
    "Site",
    "Staff",
    "UnassignedDevice",
    "User",
    "VapidKey",
    "WatchlistChange",
]
