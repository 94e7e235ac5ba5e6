"""`edge run`: every configured camera analysed live, events published with store-and-forward."""

import threading
import time
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from edge.config import CameraConfig, EdgeSettings
from edge.detect.base import Detector
from edge.detect.factory import build_detectors
from edge.events import Emitted, EventFactory
from edge.evidence import ClipRecorder, ClipWriter
from edge.pipeline import CameraPipeline
from edge.publish import EdgePublisher
from edge.sources import VideoSource
from shouwang import __version__
from shouwang.contracts import BehaviourEvent, CameraHealth, CameraState, Heartbeat, Snapshot

log = structlog.get_logger(__name__)


class EventSink(Protocol):
    """Where events go (the MQTT publisher)."""

    def publish_event(self, event: BehaviourEvent, snapshot: Snapshot | None = None) -> None:
        """Queue an event and its snapshot for delivery."""


class CameraWorker:
    """One camera: its capture thread and an analysis thread feeding the sink."""

    def __init__(
        self,
        camera: CameraConfig,
        settings: EdgeSettings,
        detector: Detector,
        fall_detector: Detector | None,
        sink: EventSink,
        clips: ClipWriter,
    ) -> None:
        self.camera, self.sink, self.clips = camera, sink, clips
        self.zone = ZoneInfo(settings.timezone)
        self.recorder = (
            ClipRecorder(camera.clip, settings.site, camera.id) if camera.clip.enabled else None
        )
        self.factory = EventFactory.for_camera(
            settings.site, settings.edge_id, camera, detector.info
        )
        self.pipeline = CameraPipeline(camera, detector, self.factory, fall_detector)
        self.source = VideoSource(
            camera.id,
            camera.source,
            camera.detect_fps,
            reconnect_max_s=camera.reconnect_max_s,
            offline_after_s=camera.offline_after_s,
            on_state=self._on_state,
            rtsp_transport=camera.rtsp_transport,
        )
        self.log = log.bind(camera=camera.id)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"analyse-{camera.id}", daemon=True)
        self._errors = 0

    def start(self) -> None:
        """Start capture and analysis."""
        self.source.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop capture and analysis and wait for both threads; hand over the clips still
        waiting for their last seconds, with the frames there are."""
        self._stop.set()
        self.source.stop()
        self._thread.join(10)
        if self.recorder is not None:
            self.clips.submit(self.recorder.flush())

    def health(self, fps: float) -> CameraHealth:
        """The camera's entry in the heartbeat."""
        seen = self.source.last_frame_at
        last = None
        if seen is not None:
            last = datetime.fromtimestamp(time.time() - (time.monotonic() - seen), self.zone)
        return CameraHealth(
            state=self.source.state,
            name=self.camera.name,
            fps=round(fps, 2),
            dropped_frames=self.source.dropped_frames,
            last_frame_at=last,
            error=self.source.error[:500] if self.source.error else None,
            clips_failed=self.clips.failed.get(self.camera.id, 0),
        )

    def _publish(self, emitted: list[Emitted]) -> None:
        for item in emitted:
            self.log.info(
                "event",
                event_id=item.event.event_id,
                type=item.event.type.value,
                phase=item.event.phase.value,
                track_id=item.event.track_id,
                zone=item.event.zone,
            )
            self.sink.publish_event(item.event, item.snapshot)

    def _on_state(self, camera_id: str, state: CameraState, error: str | None) -> None:
        if state == CameraState.STARTING:
            return
        level = self.log.info if state == CameraState.ONLINE else self.log.warning
        level("camera." + state.value, error=error)
        with self._lock:
            emitted = self.factory.camera_state(
                state == CameraState.ONLINE, datetime.now(self.zone), error
            )
        self._publish(emitted)

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = self.source.get(timeout=0.5)
            if frame is None:
                continue
            try:
                at = datetime.now(self.zone)
                with self._lock:
                    emitted = self.pipeline.process(frame, at)
                self._publish(emitted)
                if self.recorder is not None:
                    events = [item.event for item in emitted]
                    self.clips.submit(self.recorder.add(frame.image, at, events))
            except Exception:
                self._errors += 1
                self.log.exception("frame.failed", frame=frame.index, errors=self._errors)


class EdgeAgent:
    """All cameras of one box, the shared detectors and the publisher."""

    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.started = time.monotonic()
        self.publisher = EdgePublisher(
            site=settings.site,
            edge=settings.edge_id,
            mqtt_settings=settings.mqtt,
            settings=settings.publish,
            heartbeat=self.heartbeat,
        )
        cameras = [camera for camera in settings.cameras if camera.enabled]
        sizes = {camera.input_size for camera in cameras}  # None: the detector's own
        detectors = {size: build_detectors(settings.detector, size) for size in sizes}
        self.clips = ClipWriter(self.publisher, {camera.id: camera.clip for camera in cameras})
        self.workers = [
            CameraWorker(
                camera,
                settings,
                *detectors[camera.input_size],
                self.publisher,
                self.clips,
            )
            for camera in cameras
        ]
        self._last_beat = (time.monotonic(), {w.camera.id: (0, 0, 0.0) for w in self.workers})

    def start(self) -> None:
        """Connect the publisher (in the background) and start every camera."""
        self.publisher.start()
        self.clips.start()
        for worker in self.workers:
            worker.start()
        log.info("edge.started", cameras=[w.camera.id for w in self.workers])

    def stop(self) -> None:
        """Stop the cameras, then deliver what can be delivered and disconnect."""
        for worker in self.workers:
            worker.stop()
        self.clips.stop()
        self.publisher.stop()
        log.info("edge.stopped")

    def heartbeat(self) -> Heartbeat:
        """Figures since the previous heartbeat: fps, inference ms, drops, queue, cameras."""
        now = time.monotonic()
        last_t, last = self._last_beat
        elapsed = max(now - last_t, 1e-6)
        current = {
            w.camera.id: (
                w.pipeline.stats.frames,
                w.pipeline.stats.detections,
                w.pipeline.stats.inference_s,
            )
            for w in self.workers
        }
        self._last_beat = (now, current)
        frames = sum(current[c][0] - last.get(c, (0, 0, 0.0))[0] for c in current)
        calls = sum(current[c][1] - last.get(c, (0, 0, 0.0))[1] for c in current)
        spent = sum(current[c][2] - last.get(c, (0, 0, 0.0))[2] for c in current)
        cameras = {
            w.camera.id: w.health(
                (current[w.camera.id][0] - last.get(w.camera.id, (0,))[0]) / elapsed
            )
            for w in self.workers
        }
        return Heartbeat(
            schema_version=1,
            site=self.settings.site,
            edge=self.settings.edge_id,
            session_id=self.publisher.session_id,
            sent_at=datetime.now(ZoneInfo(self.settings.timezone)),
            uptime_s=round(now - self.started, 1),
            fps=round(frames / elapsed, 2),
            inference_ms=round(1000 * spent / calls, 1) if calls else 0.0,
            dropped_frames=sum(w.source.dropped_frames for w in self.workers),
            queue_depth=self.publisher.queue_depth,
            evicted=sum(self.publisher.stats().queue.evicted.values()),
            cameras=cameras,
            version=__version__,
        )
