"""`edge run` against a real Mosquitto: cameras report their state, heartbeats flow, and
events survive a broker that is down for the whole run."""

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.agent import EdgeAgent
from edge.config import EdgeSettings
from edge.detect.yolo import YoloOnnxDetector
from shouwang.contracts import BehaviourEvent, Snapshot
from tests.edge.footage import clip, footage
from tests.helpers.mosquitto import Mosquitto
from tests.helpers.subscriber import Subscriber

pytestmark = pytest.mark.integration
SITE, EDGE = "site-t", "edge-t"


def _video(path: Path, seconds: float = 4.0, fps: float = 10.0) -> Path:
    """A small video with a moving square (motion, no people)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (160, 120))
    for i in range(int(seconds * fps)):
        frame = np.full((120, 160, 3), 90, np.uint8)
        x = (i * 4) % 140
        frame[40:60, x : x + 20] = 220
        writer.write(frame)
    writer.release()
    return path


def _settings(tmp_path: Path, port: int, cameras: list[dict[str, object]]) -> EdgeSettings:
    return EdgeSettings.model_validate(
        {
            "edge_id": EDGE,
            "site": SITE,
            "mqtt": {"host": "127.0.0.1", "port": port},
            "publish": {
                "queue_path": str(tmp_path / "outbox.sqlite3"),
                "heartbeat_interval_s": 1.0,
                "replay_jitter_s": 0,
                "reconnect_max_s": 1,
            },
            "cameras": cameras,
        }
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    folder = tmp_path / "mosquitto"
    folder.mkdir()
    mosquitto = Mosquitto(folder, persistence=True)
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def _events(sub: Subscriber) -> list[BehaviourEvent]:
    return [
        BehaviourEvent.model_validate_json(m.payload)
        for m in sub.snapshot()
        if m.topic.endswith("/event")
    ]


def test_unreadable_source_goes_offline_while_others_run(tmp_path: Path, broker: Mosquitto) -> None:
    good = _video(tmp_path / "good.avi", seconds=30)
    settings = _settings(
        tmp_path,
        broker.port,
        [
            {"id": "cam-good", "source": str(good)},
            {"id": "cam-bad", "source": str(tmp_path / "missing.mp4")},
        ],
    )
    sub = Subscriber(broker.port, f"shouwang/v1/{SITE}/#").start()
    agent = EdgeAgent(settings)
    agent.start()
    try:

        def healthy(messages: list[object]) -> bool:
            beats = [json.loads(m.payload) for m in sub.snapshot() if "heartbeat" in m.topic]
            return any(
                b["cameras"]["cam-good"]["state"] == "online"
                and b["cameras"]["cam-good"]["fps"] > 0
                and b["cameras"]["cam-bad"]["state"] == "offline"
                for b in beats
            )

        assert sub.wait_for(healthy, timeout=20), "no heartbeat with cam-good online, cam-bad off"
        events = _events(sub)
        offline = [e for e in events if e.type == "camera_offline" and e.camera == "cam-bad"]
        assert offline and "missing.mp4" in str(offline[0].attributes.get("reason"))
        assert [e.camera for e in events if e.type == "camera_online"] == ["cam-good"]
        good_worker = next(w for w in agent.workers if w.camera.id == "cam-good")
        deadline = time.monotonic() + 20  # the good camera keeps analysing, however loaded
        while good_worker.pipeline.stats.frames < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert good_worker.pipeline.stats.frames >= 3
    finally:
        agent.stop()
        sub.stop()


class Tap:
    """Forwards to the real publisher and remembers what the pipeline emitted, in order; while
    `lock` is held no event is emitted (the pipeline goes on emitting while the test looks)."""

    def __init__(self, agent: EdgeAgent) -> None:
        self.publisher = agent.publisher
        self.sent: list[BehaviourEvent] = []
        self.lock = threading.Lock()

    def publish_event(self, event: BehaviourEvent, snapshot: Snapshot | None = None) -> None:
        with self.lock:
            self.sent.append(event)
            self.publisher.publish_event(event, snapshot)


@pytest.mark.slow
@pytest.mark.data
def test_broker_down_events_queue_then_arrive_in_order(tmp_path: Path, broker: Mosquitto) -> None:
    footage()
    video = clip("fall/urfd-fall-01.mp4").path
    sub = Subscriber(broker.port, f"shouwang/v1/{SITE}/#", durable=True, client_id="sf-sub")
    sub.start()
    sub.stop()
    broker.stop()  # the durable session survives in the broker's persistence file
    settings = _settings(tmp_path, broker.port, [{"id": "cam-1", "source": str(video)}])
    agent = EdgeAgent(settings)
    tap = Tap(agent)
    for worker in agent.workers:
        worker.sink = tap
    agent.start()
    try:
        # The clip plays in real time, in a loop: its fall ends within seconds on a quiet
        # machine, and later on a loaded one, whose model sees fewer of its frames.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
            e.type == "fall" and e.phase == "end" for e in tap.sent
        ):
            time.sleep(0.2)
        with tap.lock:
            kinds = [(e.type.value, e.phase.value) for e in tap.sent]
            assert ("fall", "start") in kinds, kinds
            assert agent.publisher.queue_depth == len(tap.sent), "events were not all queued"
            expected = [e.event_id for e in tap.sent]
        broker.start()
        sub = Subscriber(broker.port, f"shouwang/v1/{SITE}/#", durable=True, client_id="sf-sub")
        sub.start(timeout=15)
        assert sub.wait_for(
            lambda _: [e.event_id for e in _events(sub)][: len(expected)] == expected, timeout=30
        ), f"delivered {[e.event_id for e in _events(sub)]}, expected {expected}"
        ids = [e.event_id for e in _events(sub)]
        assert len(ids) == len(set(ids)), "an event was delivered twice"
    finally:
        agent.stop()
        sub.stop()


def test_each_camera_detects_at_its_own_input_size(tmp_path: Path) -> None:
    video = str(_video(tmp_path / "motion.avi", seconds=0.5))
    settings = _settings(
        tmp_path,
        1,  # never started: nothing connects
        [
            {"id": "cam-near", "source": video},
            {"id": "cam-far", "source": video, "input_size": 640},
        ],
    )
    agent = EdgeAgent(settings)
    near, far = (worker.pipeline.detector for worker in agent.workers)
    assert isinstance(near, YoloOnnxDetector) and isinstance(far, YoloOnnxDetector)
    assert (near.info.input_size, far.info.input_size) == (416, 640)
    frame = np.zeros((360, 640, 3), np.uint8)
    assert near.prepare(frame)[0].shape[2:] == (256, 416)
    assert far.prepare(frame)[0].shape[2:] == (384, 640)
    assert near.session is far.session  # one model in memory
