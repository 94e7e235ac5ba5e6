"""The device table of camera-native events: GB/T 28181 devices and channels by their
20-digit code, the site and camera id their events belong to, and registration passwords."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from records.base import Base


class CameraDevice(Base):
    """A GB/T 28181 device (IPC, NVR) that registers, or one of its channels (`device` set).

    The password is kept as given: SIP digest authentication needs it in clear on the server
    (protect the database as the API's own secrets are)."""

    __tablename__ = "camera_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    site: Mapped[str] = mapped_column(String(64))
    camera: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), default="")
    password: Mapped[str | None] = mapped_column(String(100))
    device: Mapped[str | None] = mapped_column(String(20))
    """For a channel: the code of its device."""
