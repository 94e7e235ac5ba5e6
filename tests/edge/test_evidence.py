"""Evidence clips: the ring buffer's bounds, the clip around an episode start, H.264 MP4 made
from real footage, clips that cannot be made, and a clip from a live agent through the real
broker, ingest, Redis and rules into the alert's folder."""

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from structlog.testing import capture_logs

from edge.agent import EdgeAgent
from edge.config import ClipConfig, EdgeSettings
from edge.evidence import (
    BufferedFrame,
    ClipError,
    ClipJob,
    ClipRecorder,
    ClipWriter,
    FrameRing,
    buffer_jpeg,
    encode_clip,
)
from edge.sources import Frame, read_file
from records.alerts import Alert
from shouwang.contracts import BehaviourEvent, CameraState, Clip, MessageKind, Phase, SnapshotRef
from shouwang.contracts.clips import mp4_problem
from shouwang.contracts.examples import example
from tests.edge.footage import clip, footage
from tests.faults.stack import EDGE, running_stack, wait_until
from tests.records.databases import database_url

__all__ = ["database_url"]

T0 = datetime(2026, 12, 3, 21, 40, tzinfo=UTC)
REF = SnapshotRef(sha256="0" * 64, bytes=1, width=1, height=1)


def _event(observed_s: float, started_s: float, phase: Phase = Phase.START) -> BehaviourEvent:
    event = example(MessageKind.EVENT, site="s1", source="cam-1", now=T0)
    assert isinstance(event, BehaviourEvent)
    return event.model_copy(
        update={
            "phase": phase,
            "observed_at": T0 + timedelta(seconds=observed_s),
            "started_at": T0 + timedelta(seconds=started_s),
            "snapshot": REF,
        }
    )


def _frames(seconds: float, fps: float = 5.0) -> list[tuple[np.ndarray, datetime]]:
    rng = np.random.default_rng(1)
    return [
        (rng.integers(0, 255, (120, 160, 3), np.uint8), T0 + timedelta(seconds=i / fps))
        for i in range(int(seconds * fps))
    ]


def test_ring_keeps_its_seconds_and_its_byte_budget() -> None:
    ring = FrameRing(seconds=2.0, max_bytes=10_000)
    for i in range(50):
        ring.add(BufferedFrame(T0 + timedelta(seconds=i / 10), b"x" * 100))
    assert len(ring) == 21 and ring.bytes == 2100  # 2 s at 10 fps, both ends included
    for i in range(50, 70):
        ring.add(BufferedFrame(T0 + timedelta(seconds=i / 10), b"x" * 1000))
    assert ring.bytes <= 10_000 and len(ring) == 10


def test_clip_runs_from_before_the_episode_to_after_the_event() -> None:
    config = ClipConfig(before_s=2, after_s=3, max_s=20)
    recorder = ClipRecorder(config, "s1", "cam-1")
    event = _event(observed_s=6, started_s=4)
    jobs: list[ClipJob] = []
    for image, at in _frames(12):
        started = [event] if at == event.observed_at else []
        jobs += recorder.add(image, at, started)
        if at < event.observed_at + timedelta(seconds=3):
            assert not jobs, "the clip was handed over before its last seconds"
    [job] = jobs
    assert (job.frames[0].at, job.frames[-1].at) == (
        T0 + timedelta(seconds=2),
        T0 + timedelta(seconds=9),
    )
    assert job.event_id == event.event_id and len(job.frames) == 36


def test_long_episode_keeps_the_last_seconds_and_updates_ask_for_nothing() -> None:
    recorder = ClipRecorder(ClipConfig(before_s=5, after_s=2, max_s=6), "s1", "cam-1")
    lie = _event(observed_s=30, started_s=1)
    update = _event(observed_s=20, started_s=1, phase=Phase.UPDATE)
    jobs: list[ClipJob] = []
    for image, at in _frames(40):
        jobs += recorder.add(image, at, [lie, update] if at == lie.observed_at else [])
    [job] = jobs
    assert job.frames[0].at == T0 + timedelta(seconds=26) and job.frames[-1].at == T0 + timedelta(
        seconds=32
    )
    assert recorder.flush() == []


def test_stopping_hands_over_the_clip_with_the_frames_there_are() -> None:
    recorder = ClipRecorder(ClipConfig(before_s=1, after_s=10), "s1", "cam-1")
    event = _event(observed_s=2, started_s=2)
    for image, at in _frames(4):
        assert recorder.add(image, at, [event] if at == event.observed_at else []) == []
    [job] = recorder.flush()
    assert job.frames[0].at == T0 + timedelta(seconds=1) and job.frames[-1].at == T0 + timedelta(
        seconds=3.8
    )


@pytest.mark.data
def test_clip_from_real_footage_is_faststart_h264_a_browser_plays() -> None:
    footage()
    config = ClipConfig()
    frames = list(read_file(clip("fall/urfd-fall-01.mp4").path, 5.0))
    job = ClipJob(
        "evt-00000001",
        "s1",
        "cam-1",
        tuple(
            BufferedFrame(T0 + timedelta(seconds=f.t), buffer_jpeg(f.image, config)) for f in frames
        ),
    )
    made = encode_clip(job, config)
    assert isinstance(made, Clip) and mp4_problem(made.video_bytes()) is None
    assert (made.width, made.height, made.frames) == (320, 240, len(frames))
    assert made.duration_s == pytest.approx(frames[-1].t - frames[0].t)
    with av.open(io.BytesIO(made.video_bytes())) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.profile == "Main"
        assert stream.codec_context.pix_fmt == "yuv420p"
        decoded = list(container.decode(stream))
    assert len(decoded) == len(frames)
    assert float(decoded[-1].time) == pytest.approx(made.duration_s, abs=0.01)


class Sink:
    def __init__(self) -> None:
        self.clips: list[Clip] = []

    def publish_clip(self, clip: Clip) -> None:
        self.clips.append(clip)


@pytest.mark.parametrize(
    "offsets_ms",
    [
        [i * 200 for i in range(10)] + [1800 + i * 5 for i in range(10)],  # a burst after a stall
        [(i // 2) * 200 for i in range(20)],  # two frames with one time
    ],
    ids=["burst", "same-time"],
)
def test_frames_at_irregular_times_still_make_a_clip(offsets_ms: list[int]) -> None:
    """A camera delivers frames in a burst after a stall, or two with one time: the clip keeps
    every frame in order at millisecond times (the demo lost clips to this: x264 counted in
    1/24 s, so close frames got one time)."""
    config = ClipConfig()
    images = [image for image, _ in _frames(len(offsets_ms) / 5)]
    job = ClipJob(
        "evt-00000002",
        "s1",
        "cam-1",
        tuple(
            BufferedFrame(T0 + timedelta(milliseconds=ms), buffer_jpeg(image, config))
            for ms, image in zip(offsets_ms, images, strict=True)
        ),
    )
    made = encode_clip(job, config)
    assert mp4_problem(made.video_bytes()) is None
    with av.open(io.BytesIO(made.video_bytes())) as container:
        times = [float(f.time) for f in container.decode(container.streams.video[0])]
    assert len(times) == len(offsets_ms) and times == sorted(set(times))


def test_clips_that_cannot_be_made_are_logged_and_counted() -> None:
    config = ClipConfig(max_bytes=1024)
    frames = tuple(BufferedFrame(at, buffer_jpeg(image, config)) for image, at in _frames(3))
    broken = (frames[0], BufferedFrame(frames[1].at, b"\xff\xd8 not a jpeg"), *frames[2:])
    sink = Sink()
    writer = ClipWriter(sink, {"cam-1": config})
    with pytest.raises(ClipError) as caught:
        encode_clip(ClipJob("evt-00000002", "s1", "cam-1", frames), config)
    assert caught.value.reason == "too_large"
    with capture_logs() as logs:
        writer.write(ClipJob("evt-00000002", "s1", "cam-1", frames))  # noise: larger than 1 KiB
        writer.write(ClipJob("evt-00000003", "s1", "cam-1", broken))
    failed = [(e["event_id"], e["reason"]) for e in logs if e["event"] == "clip.failed"]
    assert failed == [("evt-00000002", "too_large"), ("evt-00000003", "encode_failed")]
    assert writer.failed == {"cam-1": 2} and sink.clips == []
    writer.configs["cam-1"] = ClipConfig()
    writer.write(ClipJob("evt-00000004", "s1", "cam-1", frames))
    assert [c.event_id for c in sink.clips] == ["evt-00000004"] and writer.sent == {"cam-1": 1}


class FootageSource:
    """The camera: the footage's sampled frames in a loop, at most at `detect_fps` and never
    one dropped (so a loaded test box still sees the fall the footage shows)."""

    def __init__(self, video: Path, detect_fps: float) -> None:
        self.frames = list(read_file(video, detect_fps))
        self.period = 1.0 / detect_fps
        self.state, self.error, self.dropped_frames = CameraState.ONLINE, None, 0
        self.last_frame_at: float | None = None
        self._next = 0
        self._started = 0.0

    def start(self) -> None:
        self._started = time.monotonic()

    def stop(self) -> None:
        pass

    def get(self, timeout: float) -> Frame | None:
        wait = self._started + self._next * self.period - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return None
        time.sleep(max(0.0, wait))
        frame = self.frames[self._next % len(self.frames)]
        lap = self._next // len(self.frames)
        self._next += 1
        self.last_frame_at = time.monotonic()
        duration = len(self.frames) * self.period
        return Frame(frame.image, self._next, frame.t + lap * duration)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.data
def test_fall_clip_travels_to_the_alerts_folder(tmp_path: Path, database_url: str) -> None:
    """Two cameras see the footage's fall: cam-1's clip is stored beside its alert's snapshot;
    cam-2's is too large, so it is counted in the heartbeat while its alert is raised as ever."""
    footage()
    video = clip("fall/urfd-fall-01.mp4").path
    with running_stack(tmp_path, database_url) as stack:
        stack.start_ingest()
        stack.start_rules()
        settings = EdgeSettings.model_validate(
            {
                "edge_id": EDGE,
                "site": stack.site,
                "mqtt": {"host": "127.0.0.1", "port": stack.mqtt_port},
                "publish": {
                    "queue_path": str(tmp_path / "outbox.sqlite3"),
                    "replay_jitter_s": 0,
                },
                "cameras": [
                    {"id": "cam-1", "source": str(video), "clip": {"before_s": 3, "after_s": 2}},
                    {"id": "cam-2", "source": str(video), "clip": {"max_bytes": 1024}},
                ],
            }
        )
        agent = EdgeAgent(settings)
        for worker in agent.workers:
            worker.source = FootageSource(video, worker.camera.detect_fps)  # type: ignore[assignment]
        agent.start()
        snapshots = tmp_path / "snapshots"

        def alerts() -> dict[str, Alert]:
            with stack.sessions()() as session:
                rows = session.query(Alert).filter(Alert.snapshot_path.is_not(None)).all()
                return {alert.source: alert for alert in rows}

        def clip_stored() -> bool:
            found = alerts().get("cam-1")
            return (
                found is not None
                and (snapshots / found.snapshot_path).with_suffix(".mp4").is_file()
            )

        try:
            wait_until(clip_stored, 120, "cam-1's alert with its clip beside its snapshot")
            wait_until(lambda: "cam-2" in alerts(), 60, "cam-2's alert (its clip too large)")
            wait_until(lambda: agent.clips.failed["cam-2"] >= 1, 60, "cam-2's clip to be refused")
            assert agent.workers[1].health(0.0).clips_failed >= 1
            assert agent.heartbeat().cameras["cam-2"].clips_failed >= 1
        finally:
            agent.stop()
        alert = alerts()["cam-1"]
        mp4 = (snapshots / alert.snapshot_path).with_suffix(".mp4")
        assert alert.snapshot_event_id == mp4.stem
        assert not (snapshots / alerts()["cam-2"].snapshot_path).with_suffix(".mp4").exists()
        with av.open(str(mp4)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            seconds = float(stream.duration * stream.time_base)
            frames = len(list(container.decode(stream)))
        # Frames from before the event and after it; how many depends on how fast the (shared)
        # box analyses: the ring holds the analysed frames.
        assert frames >= 2 and 0 < seconds <= 20.0, (frames, seconds)
        entries = [f for _, f in stack.redis().xrange("shouwang:events") if f["kind"] == "clip"]
        assert mp4.stem in [e["event_id"] for e in entries]
