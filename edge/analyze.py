"""`edge analyze`: the camera pipeline run offline on a video file, as fast as it decodes."""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.annotate import AnnotatedWriter
from edge.config import CameraConfig, EdgeSettings
from edge.detect.factory import build_detectors
from edge.events import Emitted, EventFactory
from edge.pipeline import CameraPipeline, PipelineStats
from edge.sources import read_file

ProgressCallback = Callable[[int], None]


def camera_for(video: Path, settings: EdgeSettings, camera_id: str | None) -> CameraConfig:
    """The camera whose zones and thresholds apply to `video`: `camera_id`, else the config's
    first camera, else defaults (whole frame as one zone, fall and 10 s loitering on)."""
    if camera_id is not None:
        matches = [c for c in settings.cameras if c.id == camera_id]
        if not matches:
            known = ", ".join(c.id for c in settings.cameras) or "none"
            raise ValueError(f"no camera {camera_id!r} in the config (cameras: {known})")
        camera = matches[0]
    elif settings.cameras:
        camera = settings.cameras[0]
    else:
        return CameraConfig(id="video", source=str(video))
    return camera.model_copy(update={"source": str(video)})


class VideoAnalysis:
    """The pipeline of one camera run over a video file; event times count from `start`."""

    def __init__(
        self,
        video: Path,
        settings: EdgeSettings,
        camera: CameraConfig,
        *,
        out: Path | None = None,
        start: datetime | None = None,
    ) -> None:
        self.video, self.camera, self.out = video, camera, out
        detector, fall_detector = build_detectors(settings.detector, camera.input_size)
        factory = EventFactory.for_camera(settings.site, settings.edge_id, camera, detector.info)
        self.pipeline = CameraPipeline(camera, detector, factory, fall_detector)
        self.start = start or datetime.now(ZoneInfo(settings.timezone))

    @property
    def stats(self) -> PipelineStats:
        """Frames analysed, detector calls and time spent."""
        return self.pipeline.stats

    def events(self, progress: ProgressCallback | None = None) -> Iterator[Emitted]:
        """Events decided on the video, in order, then `end` events for open episodes."""
        writer = AnnotatedWriter(self.out, self.camera.detect_fps) if self.out else None
        try:
            for frame in read_file(self.video, self.camera.detect_fps):
                emitted = self.pipeline.process(frame, self.start + timedelta(seconds=frame.t))
                if writer is not None and self.pipeline.zones is not None:
                    people = self.pipeline.last_people
                    writer.write(frame.image, self.pipeline.zones, people, emitted)
                if progress:
                    progress(frame.index)
                yield from emitted
            yield from self.pipeline.finish()
        finally:
            if writer is not None:
                writer.close()
