"""Vendor reports → wire events with start/update/end (pure: the caller passes the time).

Cameras report a condition as `active` again and again while it lasts (Hikvision about every
second) and as `inactive` (or Dahua `Stop`) when it ends; some never say it ended. The first
report of a condition starts an episode, repeats become an update at most every
`update_interval_s`, the end ends it, and an episode silent for `quiet_end_s` ends by itself.
A Hikvision `videoloss inactive` with nothing open is the stream's heartbeat and yields nothing.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cameras.vendors.pictures import BadPicture, snapshot
from cameras.vendors.reports import Report
from cameras.wire import camera_event, stable_id
from shouwang.contracts import BehaviourEvent, Phase, Snapshot

Emitted = tuple[BehaviourEvent, Snapshot | None]

_ZONE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Camera:
    """Where a camera's events belong."""

    site: str
    camera: str
    edge: str
    """The reporting device (its id as an edge: the gateway itself, or the camera)."""
    name: str = ""
    """What people call it."""


@dataclass(slots=True)
class _Open:
    episode_id: str
    started: datetime
    last_seen: datetime
    last_sent: datetime
    report: Report


@dataclass
class Episodes:
    """Open episodes of every camera a gateway hears from."""

    update_interval_s: float
    quiet_end_s: float
    zone: ZoneInfo
    max_snapshot_bytes: int = 180 * 1024
    open: dict[tuple[str, str, int, str], _Open] = field(default_factory=dict)

    def observe(
        self, camera: Camera, report: Report, now: datetime, picture: bytes | None = None
    ) -> list[Emitted]:
        """The events one report leads to (none for a repeat sent too soon)."""
        at = report.at or now
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.zone)
        key = (camera.camera, report.code.lower(), report.channel, report.region)
        current = self.open.get(key)
        if report.active is None:  # a one-off: its own episode, start only
            return [self._event(camera, report, Phase.START, at, at, None, picture)]
        if not report.active:
            if current is None:
                return []
            del self.open[key]
            return [self._event(camera, report, Phase.END, at, current.started, current, None)]
        if current is None:
            emitted = self._event(camera, report, Phase.START, at, at, None, picture)
            self.open[key] = _Open(emitted[0].episode_id, at, now, now, report)
            return [emitted]
        current.last_seen = now
        if (now - current.last_sent).total_seconds() < self.update_interval_s:
            return []
        current.last_sent = now
        return [self._event(camera, report, Phase.UPDATE, at, current.started, current, picture)]

    def expire(self, cameras: dict[str, Camera], now: datetime) -> list[Emitted]:
        """End the episodes no report has kept alive for `quiet_end_s`."""
        ended = []
        for key, current in list(self.open.items()):
            if now - current.last_seen < timedelta(seconds=self.quiet_end_s):
                continue
            del self.open[key]
            camera = cameras.get(key[0])
            if camera is not None:
                ended.append(
                    self._event(
                        camera, current.report, Phase.END, now, current.started, current, None
                    )
                )
        return ended

    def _event(
        self,
        camera: Camera,
        report: Report,
        phase: Phase,
        at: datetime,
        started: datetime,
        episode: _Open | None,
        picture: bytes | None,
    ) -> Emitted:
        if report.serial:
            event_id = stable_id(
                report.vendor,
                camera.site,
                camera.camera,
                report.code,
                report.channel,
                report.at,
                report.serial,
                phase.value,
            )
        else:
            event_id = str(uuid.uuid4())
        attributes: dict[str, bool | int | float | str] = {
            "protocol": report.vendor,
            "channel": report.channel,
            **report.attributes,
        }
        if report.description:
            attributes["description"] = report.description
        shot = None
        if picture is not None:
            try:
                shot = snapshot(
                    picture,
                    event_id=event_id,
                    site=camera.site,
                    camera=camera.camera,
                    max_bytes=self.max_snapshot_bytes,
                )
            except BadPicture as exc:
                attributes["picture_error"] = str(exc)[:200]
        event = camera_event(
            event_id=event_id,
            episode_id=episode.episode_id if episode else event_id,
            type_=report.type,
            phase=phase,
            site=camera.site,
            edge=camera.edge,
            camera=camera.camera,
            observed_at=at,
            started_at=started,
            attributes=attributes,
            zone=report.region if _ZONE.match(report.region) else None,
            snapshot=shot,
            camera_name=camera.name,
        )
        return event, shot
