"""What analysers see (an Observation per sampled frame) and say (Findings)."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import supervision as sv

from edge.zones import ZoneSet
from shouwang.contracts import EventType, Phase


@dataclass(slots=True)
class Observation:
    """One sampled frame of a camera and what the pipeline found in it."""

    camera: str
    image: np.ndarray
    index: int
    """0-based index of the frame in its source."""
    t: float
    """Seconds on the camera's own clock (file position or monotonic)."""
    at: datetime
    """Wall-clock time of the frame, with time zone."""
    detected: bool
    """Whether the detector ran on this frame (the motion gate may skip it)."""
    motion: bool
    people: sv.Detections
    """Tracked people (`tracker_id` set); empty when the detector did not run."""
    zones: ZoneSet
    in_zone: dict[str, np.ndarray]
    """Per zone name, a boolean per person: bottom-centre inside."""
    motion_mask: np.ndarray | None = None
    """Changed pixels of the motion gate's small grey copy, when it ran."""
    second_opinion: sv.Detections | None = None
    """Fall-model detections, when it was asked on this frame."""
    untracked: sv.Detections = field(default_factory=sv.Detections.empty)
    """Person detections the tracker did not confirm (low confidence, or new)."""
    found_closer: sv.Detections = field(default_factory=sv.Detections.empty)
    """People the frame missed, found on a crop where a small watched body was lost (boxes
    only; edge/detect/closer.py)."""

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return int(self.image.shape[1])

    def zones_of(self, row: int) -> list[str]:
        """Names of the zones person `row` stands in."""
        return [name for name, inside in self.in_zone.items() if inside[row]]


@dataclass(slots=True)
class Finding:
    """An analyser's decision, turned into a wire event (and snapshot) by the pipeline."""

    type: EventType
    phase: Phase
    key: str
    """Identifies the episode within the camera: start, updates and end share it."""
    started_at: datetime
    observed_at: datetime
    index: int
    confidence: float
    track_id: int | None = None
    zone: str | None = None
    zone_tags: tuple[str, ...] = ()
    bbox: np.ndarray | None = None
    """Box in pixels (x1, y1, x2, y2) of the frame the snapshot shows."""
    frame_wh: tuple[int, int] = (0, 0)
    attributes: dict[str, Any] = field(default_factory=dict)
    snapshot: np.ndarray | None = None
    """BGR image of the episode's best frame so far."""


@dataclass(slots=True)
class Episode:
    """An open start…end episode of one analyser and its best frame so far."""

    key: str
    started_at: datetime
    started_t: float
    last_event_t: float
    confidence: float = 0.0
    image: np.ndarray | None = None
    bbox: np.ndarray | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def offer(self, obs: Observation, confidence: float, bbox: np.ndarray | None) -> None:
        """Keep this frame as the snapshot if it is the most confident one yet."""
        if self.image is None or confidence > self.confidence:
            self.confidence, self.image = confidence, obs.image
            self.bbox = None if bbox is None else bbox.copy()

    def finding(
        self,
        obs: Observation,
        type_: EventType,
        phase: Phase,
        *,
        track_id: int | None = None,
        zone: str | None = None,
        zone_tags: tuple[str, ...] = (),
        attributes: dict[str, Any] | None = None,
    ) -> Finding:
        """A finding about this episode decided on `obs`."""
        self.last_event_t = obs.t
        return Finding(
            type=type_,
            phase=phase,
            key=self.key,
            started_at=self.started_at,
            observed_at=obs.at,
            index=obs.index,
            confidence=round(min(1.0, max(0.0, self.confidence)), 3),
            track_id=track_id,
            zone=zone,
            zone_tags=zone_tags,
            bbox=self.bbox,
            frame_wh=(obs.width, obs.height),
            attributes={**self.attributes, **(attributes or {})},
            snapshot=self.image,
        )


@dataclass(frozen=True, slots=True)
class Watch:
    """An analyser's request for the next frames."""

    keep_detecting: bool = False
    """Run the detector at least every `tracked_check_s` even if nobody is tracked (someone
    may be lying still where the pose model lost them)."""
    every_frame: bool = False
    """Run the detector on every sampled frame (a decision is being made)."""
    second_opinion: bool = False
    """Ask the fall model too."""
    look_closer: tuple[np.ndarray, ...] = ()
    """Boxes (frame pixels) of places where a small person should be looked at closer."""


class Analyser(ABC):
    """Watches a camera's observations for one behaviour."""

    @abstractmethod
    def observe(self, obs: Observation) -> list[Finding]:
        """Findings decided on this observation (often none)."""

    @abstractmethod
    def finish(self, obs: Observation) -> list[Finding]:
        """`end` findings for every open episode (the source has ended)."""

    def watch(self) -> Watch:
        """What this analyser asks of the next frames (more detection, the fall model)."""
        return Watch()
