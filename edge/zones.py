"""Polygon zones in pixels for one camera, and which people stand in them."""

from dataclasses import dataclass

import cv2
import numpy as np
import supervision as sv

from edge.config.zones import WHOLE_FRAME, ZoneConfig
from shouwang.contracts.events import WHOLE_FRAME_ZONE


@dataclass(frozen=True, slots=True)
class Zone:
    """A configured zone scaled to a frame size."""

    name: str
    tags: tuple[str, ...]
    loitering: bool
    polygon: np.ndarray
    """Corners in pixels, K×2 int64."""
    area: sv.PolygonZone
    frame_wh: tuple[int, int]

    def contains(self, people: sv.Detections) -> np.ndarray:
        """Boolean per detection: is the bottom-centre of its box inside the polygon."""
        if len(people) == 0:
            return np.zeros(0, dtype=bool)
        return np.asarray(self.area.trigger(people), dtype=bool)

    def mask(self, width: int, height: int) -> np.ndarray:
        """The zone as a boolean mask of a frame scaled to width×height."""
        scale = np.array([width / self.frame_wh[0], height / self.frame_wh[1]])
        points = np.round(self.polygon * scale).astype(np.int32)
        canvas = np.zeros((height, width), np.uint8)
        cv2.fillPoly(canvas, [points], 1)
        return canvas.astype(bool)


class ZoneSet:
    """The zones of one camera at one frame size (rebuilt when the size changes)."""

    def __init__(self, configs: dict[str, ZoneConfig], frame_wh: tuple[int, int]) -> None:
        self.frame_wh = frame_wh
        width, height = frame_wh
        configs = configs or {WHOLE_FRAME_ZONE: WHOLE_FRAME}
        self.zones: list[Zone] = []
        for name, config in configs.items():
            corners = np.array(config.polygon, dtype=np.float64) * [width - 1, height - 1]
            polygon = np.round(corners).astype(np.int64)
            area = sv.PolygonZone(polygon, triggering_anchors=(sv.Position.BOTTOM_CENTER,))
            zone = Zone(name, tuple(config.tags), config.loitering, polygon, area, frame_wh)
            self.zones.append(zone)

    def membership(self, people: sv.Detections) -> dict[str, np.ndarray]:
        """For each zone name, which detections stand in it."""
        return {zone.name: zone.contains(people) for zone in self.zones}

    def tagged(self, tags: set[str] | list[str]) -> list[Zone]:
        """Zones carrying any of `tags`."""
        wanted = set(tags)
        return [zone for zone in self.zones if wanted & set(zone.tags)]

    def by_name(self, name: str) -> Zone:
        """The zone called `name`."""
        return next(zone for zone in self.zones if zone.name == name)
