"""Annotated video for `edge analyze --out`: zones, tracked people, events and a 0..1 grid
to read zone corners from."""

from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from edge.events import Emitted
from edge.zones import ZoneSet

GRID = 10
ZONE_COLOUR = (0, 200, 255)
PERSON_COLOUR = (80, 220, 80)
EVENT_COLOUR = (40, 40, 255)
GRID_COLOUR = (200, 200, 200)


class AnnotatedWriter:
    """Writes one annotated frame per analysed frame (so the video plays at detect fps)."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path, self.fps = path, fps
        self._writer: cv2.VideoWriter | None = None
        self._banner: list[tuple[str, int]] = []

    def write(
        self, image: np.ndarray, zones: ZoneSet, people: sv.Detections, emitted: list[Emitted]
    ) -> None:
        """Draw and append one frame."""
        canvas = image.copy()
        height, width = canvas.shape[:2]
        font = cv2.FONT_HERSHEY_SIMPLEX
        for i in range(1, GRID):
            x, y = round(i * width / GRID), round(i * height / GRID)
            cv2.line(canvas, (x, 0), (x, 4), GRID_COLOUR, 1)
            cv2.line(canvas, (0, y), (4, y), GRID_COLOUR, 1)
            cv2.putText(canvas, f".{i}", (x + 2, 12), font, 0.3, GRID_COLOUR, 1)
            cv2.putText(canvas, f".{i}", (6, y + 4), font, 0.3, GRID_COLOUR, 1)
        for zone in zones.zones:
            cv2.polylines(canvas, [zone.polygon.astype(np.int32)], True, ZONE_COLOUR, 1)
            x, y = zone.polygon[0]
            label = zone.name + (f" [{','.join(zone.tags)}]" if zone.tags else "")
            cv2.putText(canvas, label, (int(x) + 3, int(y) + 24), font, 0.4, ZONE_COLOUR, 1)
        ids = people.tracker_id if people.tracker_id is not None else np.empty(0, int)
        for box, track_id in zip(people.xyxy.astype(int), ids, strict=True):
            cv2.rectangle(canvas, tuple(box[:2]), tuple(box[2:]), PERSON_COLOUR, 1)
            cv2.putText(
                canvas, f"#{track_id}", (box[0], max(10, box[1] - 3)), font, 0.4, PERSON_COLOUR, 1
            )
        for item in emitted:
            event = item.event
            self._banner.append((f"{event.type.value} {event.phase.value}", round(self.fps * 3)))
        self._banner = [(text, left - 1) for text, left in self._banner if left > 0]
        for row, (text, _) in enumerate(self._banner[-4:]):
            cv2.putText(canvas, text, (8, height - 10 - 16 * row), font, 0.5, EVENT_COLOUR, 2)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fourcc = cv2.VideoWriter.fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (width, height))
        self._writer.write(canvas)

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
