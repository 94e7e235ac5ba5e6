"""Turning analyser findings into wire events and JPEG snapshots."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from edge.analysers.base import Finding
from edge.config.camera import CameraConfig
from edge.detect.base import DetectorInfo
from shouwang.contracts import (
    BehaviourEvent,
    BoundingBox,
    EventType,
    ModelRef,
    Phase,
    Snapshot,
    SnapshotRef,
)

JPEG_QUALITY = 80
SNAPSHOT_MAX_SIDE = 1280


@dataclass(frozen=True, slots=True)
class Emitted:
    """A wire event, its snapshot (if any) and the 0-based index of the deciding frame."""

    event: BehaviourEvent
    snapshot: Snapshot | None
    frame: int


def encode_jpeg(image: np.ndarray) -> tuple[bytes, int, int]:
    """JPEG bytes, width and height of a BGR image (scaled down to SNAPSHOT_MAX_SIDE)."""
    height, width = image.shape[:2]
    scale = SNAPSHOT_MAX_SIDE / max(height, width)
    if scale < 1:
        width, height = round(width * scale), round(height * scale)
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes(), width, height


def normalised_box(box: np.ndarray, frame_wh: tuple[int, int]) -> BoundingBox:
    """A pixel box as the contract's 0..1 box."""
    width, height = frame_wh
    x1, x2 = sorted(float(np.clip(v / width, 0, 1)) for v in (box[0], box[2]))
    y1, y2 = sorted(float(np.clip(v / height, 0, 1)) for v in (box[1], box[3]))
    return BoundingBox(x1=x1, y1=y1, x2=x2, y2=y2)


class EventFactory:
    """Builds events for one camera; remembers the episode id of every open episode."""

    def __init__(
        self,
        site: str,
        edge: str,
        camera: str,
        model: DetectorInfo | None,
        *,
        camera_name: str | None = None,
        zone_names: Mapping[str, str] | None = None,
    ) -> None:
        self.site, self.edge, self.camera = site, edge, camera
        self.camera_name = camera_name
        self.zone_names = dict(zone_names or {})
        self.model = ModelRef(name=model.name, version=model.version) if model else None
        self._episodes: dict[str, str] = {}
        self._offline_since = datetime.now().astimezone()

    @classmethod
    def for_camera(
        cls, site: str, edge: str, camera: CameraConfig, model: DetectorInfo | None
    ) -> "EventFactory":
        """The factory of a configured camera: its events carry its and its zones' names."""
        return cls(
            site, edge, camera.id, model, camera_name=camera.name, zone_names=camera.zone_names()
        )

    def build(self, finding: Finding) -> Emitted:
        """The event (and snapshot) for a finding."""
        event_id = str(uuid.uuid4())
        if finding.phase == Phase.START:
            self._episodes[finding.key] = event_id
        episode_id = self._episodes.get(finding.key, event_id)
        if finding.phase == Phase.END:
            self._episodes.pop(finding.key, None)
        snapshot = None
        ref = None
        if finding.snapshot is not None:
            jpeg, width, height = encode_jpeg(finding.snapshot)
            snapshot = Snapshot.from_jpeg(
                jpeg,
                event_id=event_id,
                site=self.site,
                camera=self.camera,
                width=width,
                height=height,
            )
            ref = SnapshotRef(sha256=snapshot.sha256, bytes=len(jpeg), width=width, height=height)
        event = BehaviourEvent(
            schema_version=1,
            event_id=event_id,
            episode_id=episode_id,
            type=finding.type,
            phase=finding.phase,
            site=self.site,
            edge=self.edge,
            camera=self.camera,
            camera_name=self.camera_name,
            observed_at=finding.observed_at,
            started_at=min(finding.started_at, finding.observed_at),
            confidence=finding.confidence,
            zone=finding.zone,
            zone_name=self.zone_names.get(finding.zone) if finding.zone else None,
            zone_tags=finding.zone_tags,
            track_id=finding.track_id,
            bbox=None if finding.bbox is None else normalised_box(finding.bbox, finding.frame_wh),
            attributes=finding.attributes,
            model=self.model,
            snapshot=ref,
        )
        return Emitted(event, snapshot, finding.index)

    def camera_state(self, online: bool, at: datetime, reason: str | None) -> list[Emitted]:
        """Events for a camera going offline (`camera_offline` start) or coming (back) online
        (`camera_offline` end if it was offline, then a `camera_online` start)."""
        emitted: list[Emitted] = []
        key = "camera_offline"
        attributes: dict[str, bool | int | float | str] = {"reason": reason[:200]} if reason else {}
        if not online:
            if key not in self._episodes:
                self._offline_since = at
                emitted.append(
                    self._state_event(EventType.CAMERA_OFFLINE, Phase.START, at, key, attributes)
                )
            return emitted
        if key in self._episodes:
            emitted.append(self._state_event(EventType.CAMERA_OFFLINE, Phase.END, at, key, {}))
        emitted.append(self._state_event(EventType.CAMERA_ONLINE, Phase.START, at, None, {}))
        return emitted

    def _state_event(
        self,
        type_: EventType,
        phase: Phase,
        at: datetime,
        key: str | None,
        attributes: dict[str, bool | int | float | str],
    ) -> Emitted:
        event_id = str(uuid.uuid4())
        started = at
        if key is not None and phase == Phase.START:
            self._episodes[key] = event_id
        episode_id = event_id
        if key is not None and phase == Phase.END:
            episode_id = self._episodes.pop(key)
            started = min(self._offline_since, at)
        event = BehaviourEvent(
            schema_version=1,
            event_id=event_id,
            episode_id=episode_id,
            type=type_,
            phase=phase,
            site=self.site,
            edge=self.edge,
            camera=self.camera,
            camera_name=self.camera_name,
            observed_at=at,
            started_at=started,
            confidence=1.0,
            attributes=attributes,
        )
        return Emitted(event, None, -1)
