"""A city's edge boxes against the clustered back office, on loopback: `python -m
benchmarks.city`.

The back office is the one of the city-scale tests (tests/faults/stack.py): a NATS cluster
(MQTT front on JetStream) of `--nodes` servers, a Redis Cluster of three masters with a
replica each and partitions per county, and per node one ingest worker (reading JetStream)
and one rules worker, on PostgreSQL (`--database`) or SQLite. The edge boxes are simulated on
one asyncio loop (paho-mqtt clients driven by the loop's sockets), each as a real box behaves:

- an MQTT 3.1.1 session with its last will (`offline`, retained) and a retained `online`;
- a heartbeat every 30 s with its cameras' state;
- per camera, behaviour episodes (start, then end) at a realistic rate per hour — loitering,
  inactivity, a child near water, falls, cameras going offline — each event with its snapshot
  (a frame of the yard sample, encoded as the edge does: about 30 KB);
- a local queue: what cannot be sent waits, and goes when the broker is back.

Before measuring, a warm-up sends a fall from one box per county through every broker node
and waits for each county's alert, so that connecting, subscribing, first queries and taking
the partitions are not in the figures; its boxes, events and alerts are not counted.

`--speed` runs the boxes' clocks faster (heartbeats, events) so that a few thousand boxes
load the back office as `speed` times as many would. Halfway, one county's boxes lose their
network for `--outage-s`: their sockets die (the broker sends their wills), events queue, and
then every box reconnects at once and sends its backlog (a reconnect storm).

Reported per node count: connections held at the end, messages per second the broker
acknowledged, events made, events acknowledged but never stored (lost) and never acknowledged
(still at their box), p50/p99 from a box sending an event to its stream entry and to its
alert on the live feed, and the storm: how long from the network's return until every box of
the county was back, and until the last event they queued was stored.

    python -m benchmarks.city [--boxes 1000] [--speed 10] [--seconds 60] [--nodes 1,3]
        [--outage-s 20] [--database URL] [--json] [--quick]

`--quick` (under a minute): 200 boxes at 30× for 16 s, a 5 s outage, one node. The figures in
docs/operations.md were measured on a shared 2-core box.
"""

import argparse
import asyncio
import json
import random
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.table import Table

from benchmarks.ingest_throughput import percentile
from edge.events import encode_jpeg
from shouwang.contracts import (
    BehaviourEvent,
    EdgeState,
    EventType,
    MessageKind,
    Phase,
    Snapshot,
    SnapshotRef,
    build_topic,
)
from shouwang.contracts.examples import example
from shouwang.partitions import Partitioner
from shouwang.redis_keys import ALERTS_STREAM, EVENTS_STREAM
from shouwang.settings import PartitionSettings
from tests.faults.stack import Stack, running_stack
from tests.helpers.nats_cluster import NatsCluster

SAMPLE = Path(__file__).parents[1] / "samples" / "intel-one-by-one.mp4"
console = Console() if Console().is_terminal else Console(width=180)
progress = Console(stderr=True)
"""Where the run says what it is doing (stderr: `--json` output stays JSON)."""

COUNTIES = (
    "bijiang",
    "wanshan",
    "jiangkou",
    "yuping",
    "shiqian",
    "sinan",
    "yinjiang",
    "dejiang",
    "yanhe",
    "songtao",
)
"""Tongren's ten districts and counties: one partition each."""
CAMERAS_PER_BOX = 4
HEARTBEAT_S = 30.0
EPISODES_PER_CAMERA_HOUR: dict[EventType, float] = {
    EventType.LOITERING: 1.5,
    EventType.INACTIVITY: 0.4,
    EventType.UNATTENDED_CHILD: 0.2,
    EventType.FALL: 0.05,
    EventType.CAMERA_OFFLINE: 0.05,
}
"""Episodes per camera per hour, a village camera's day averaged (people passing a gate linger
often; falls are rare). Each episode is a start and an end; a fall also sends its snapshot."""
EPISODE_S = 20.0
"""How long (in box time) an episode lasts before its end."""
WARM_UP_TIMEOUT_S = 60.0
"""Longest wait for the warm-up's boxes to connect and be acknowledged, and for its alerts."""


@dataclass
class Sent:
    """One event the simulator handed to a box: when the box first sent it (None: not yet, it
    waits in the box's queue), whether the broker acknowledged it, and whether it was made
    while the box's network was cut."""

    key: str
    site: str
    published: float | None = None
    acked: bool = False
    during_outage: bool = False


@dataclass
class Tally:
    boxes: int = 0
    connected: set[str] = field(default_factory=set)
    events: dict[str, Sent] = field(default_factory=dict)
    messages_acked: int = 0
    held: int = 0
    """Connections up when the boxes stopped making events."""
    storm_started: float | None = None
    storm_reconnected: float | None = None
    """When (wall clock) the county's network came back, and when its every box was online."""


class SocketLoop:
    """Drives one paho client from the asyncio loop (paho's documented external-loop hooks)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: mqtt.Client) -> None:
        self.loop = loop
        self.client = client
        self.misc: asyncio.Task[None] | None = None
        client.on_socket_open = self._open
        client.on_socket_close = self._close
        client.on_socket_register_write = lambda c, u, sock: loop.add_writer(sock, c.loop_write)
        client.on_socket_unregister_write = lambda c, u, sock: loop.remove_writer(sock)

    def _open(self, client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        self.loop.add_reader(sock, client.loop_read)
        self.misc = self.loop.create_task(self._misc())

    def _close(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        self.loop.remove_reader(sock)
        if self.misc is not None:
            self.misc.cancel()

    async def _misc(self) -> None:
        while self.client.loop_misc() == mqtt.MQTT_ERR_SUCCESS:
            await asyncio.sleep(1)

    def detach(self) -> None:
        """Leave the loop (before it closes): the client's socket is no longer watched."""
        sock = self.client.socket()
        if sock is not None:
            self.loop.remove_reader(sock)
            self.loop.remove_writer(sock)
        if self.misc is not None:
            self.misc.cancel()
        self.client.on_socket_open = self.client.on_socket_close = None
        self.client.on_socket_register_write = self.client.on_socket_unregister_write = None


class Box:
    """One simulated edge box: a site, four cameras, an MQTT session and a local queue."""

    def __init__(
        self,
        site: str,
        edge: str,
        port: int,
        tally: Tally,
        speed: float,
        jpeg: tuple[bytes, int, int],
    ):
        self.site, self.edge, self.port = site, edge, port
        self.jpeg = jpeg
        self.tally = tally
        self.speed = speed
        self.session = str(uuid.uuid4())
        self.queue: list[tuple[str, str, bool, str | None]] = []  # topic, payload, retain, key
        self.inflight: dict[int, str | None] = {}
        self.resend: dict[str, tuple[str, str, bool, str | None]] = {}
        """Events not acknowledged yet, by key: sent again after a disconnect."""
        self.online = False
        self.cut = False
        self.driver: SocketLoop | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"shouwang-edge-{site}-{edge}",
            protocol=mqtt.MQTTv311,
        )
        self.client.max_inflight_messages_set(50)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_publish = self._published
        self.client.will_set(*self._status(EdgeState.OFFLINE), qos=1, retain=True)

    def _status(self, state: EdgeState) -> tuple[str, str]:
        status = example(MessageKind.STATUS, site=self.site, source=self.edge).model_copy(
            update={"state": state, "session_id": self.session, "edge": self.edge}
        )
        return build_topic(self.site, self.edge, MessageKind.STATUS), status.model_dump_json()

    def connect(self, loop: asyncio.AbstractEventLoop) -> None:
        self.driver = SocketLoop(loop, self.client)
        try:
            self.client.connect("127.0.0.1", self.port, keepalive=30)
            self.client.socket().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        except OSError:
            loop.call_later(1, self.connect, loop)

    def _connected(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            return
        self.online = True
        self.tally.connected.add(self.site)
        topic, payload = self._status(EdgeState.ONLINE)
        self._send(topic, payload, True, None)
        queued, self.queue = self.queue, []
        for item in queued:
            self._send(*item)

    def _disconnected(self, _client: mqtt.Client, *_args: Any) -> None:
        self.online = False
        self.tally.connected.discard(self.site)
        for key in self.inflight.values():  # no PUBACK: the edge sends them again
            if key is not None and key in self.resend:
                self.queue.append(self.resend[key])
        self.inflight.clear()
        if not self.cut:
            asyncio.get_running_loop().call_later(1 + random.random(), self._reconnect)

    def _reconnect(self) -> None:
        if self.cut or self.online:
            return
        try:
            self.client.reconnect()
        except OSError:
            asyncio.get_running_loop().call_later(1 + random.random(), self._reconnect)

    def _published(self, _c: Any, _u: Any, mid: int, _rc: Any, _p: Any) -> None:
        self.tally.messages_acked += 1
        key = self.inflight.pop(mid, None)
        if key is not None and key in self.tally.events:
            self.tally.events[key].acked = True
            self.resend.pop(key, None)

    def _send(self, topic: str, payload: str, retain: bool, key: str | None) -> None:
        if key is not None:
            self.resend[key] = (topic, payload, retain, key)
        if not self.online:
            self.queue.append((topic, payload, retain, key))
            return
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        self.inflight[info.mid] = key
        sent = self.tally.events.get(key) if key is not None else None
        if sent is not None and sent.published is None:
            sent.published = time.time()

    def heartbeat(self) -> None:
        beat = example(MessageKind.HEARTBEAT, site=self.site, source=self.edge)
        beat = beat.model_copy(update={"session_id": self.session, "edge": self.edge})
        if self.online:  # a heartbeat is not queued: the next one says the same
            self._send(
                build_topic(self.site, self.edge, MessageKind.HEARTBEAT),
                beat.model_dump_json(),
                False,
                None,
            )

    def episode(self, camera: str, kind: EventType) -> BehaviourEvent:
        now = datetime.now(UTC)
        start = example(MessageKind.EVENT, site=self.site, source=camera)
        assert isinstance(start, BehaviourEvent)
        start = start.model_copy(
            update={"type": kind, "edge": self.edge, "observed_at": now, "started_at": now}
        )
        self._event(start)
        return start

    def end(self, start: BehaviourEvent) -> None:
        now = datetime.now(UTC)
        self._event(
            start.model_copy(
                update={
                    "event_id": str(uuid.uuid4()),
                    "phase": Phase.END,
                    "observed_at": max(now, start.observed_at + timedelta(milliseconds=1)),
                }
            )
        )

    def _event(self, event: BehaviourEvent) -> None:
        """Send an event and, as the edge does for every finding, its snapshot."""
        jpeg, width, height = self.jpeg
        snapshot = Snapshot.from_jpeg(
            jpeg,
            event_id=event.event_id,
            site=self.site,
            camera=event.camera,
            width=width,
            height=height,
        )
        event = event.model_copy(
            update={
                "snapshot": SnapshotRef(
                    sha256=snapshot.sha256, bytes=len(jpeg), width=width, height=height
                )
            }
        )
        key = event.idempotency_key
        self.tally.events[key] = Sent(key, self.site, during_outage=self.cut)
        self._send(
            build_topic(self.site, event.camera, MessageKind.EVENT),
            event.model_dump_json(),
            False,
            key,
        )
        topic = build_topic(self.site, event.camera, MessageKind.SNAPSHOT)
        self._send(topic, snapshot.model_dump_json(), False, None)

    def cut_network(self) -> None:
        """The county's network goes: the socket dies without a DISCONNECT."""
        self.cut = True
        sock = self.client.socket()
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def restore_network(self) -> None:
        self.cut = False
        self._reconnect()


async def drive(box: Box, until: float) -> None:
    """Heartbeats and episodes of one box until `until` (monotonic)."""
    speed = box.speed
    rate_s = sum(EPISODES_PER_CAMERA_HOUR.values()) * CAMERAS_PER_BOX * speed / 3600
    kinds, weights = zip(*EPISODES_PER_CAMERA_HOUR.items(), strict=True)
    next_beat = time.monotonic() + random.random() * HEARTBEAT_S / speed
    next_episode = time.monotonic() + random.expovariate(rate_s)
    loop = asyncio.get_running_loop()
    while (now := time.monotonic()) < until:
        if now >= next_beat:
            box.heartbeat()
            next_beat += HEARTBEAT_S / speed
        if now >= next_episode:
            camera = f"cam-{random.randrange(CAMERAS_PER_BOX) + 1:02d}"
            start = box.episode(camera, random.choices(kinds, weights)[0])
            loop.call_later(EPISODE_S / speed, box.end, start)
            next_episode += random.expovariate(rate_s)
        await asyncio.sleep(max(0.01, min(next_beat, next_episode) - time.monotonic()))


def sample_snapshot() -> tuple[bytes, int, int]:
    """A frame of the yard sample encoded as the edge encodes its snapshots (768 × 432,
    about 30 KB): JPEG bytes, width and height."""
    capture = cv2.VideoCapture(str(SAMPLE))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 60)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise RuntimeError(f"cannot read a frame of {SAMPLE}")
    return encode_jpeg(frame)


async def simulate(ports: list[int], args: argparse.Namespace, tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    jpeg = sample_snapshot()
    boxes = [
        Box(
            f"tongren-{COUNTIES[n % len(COUNTIES)]}-{n:05d}",
            f"edge-{n:05d}",
            ports[n % len(ports)],
            tally,
            args.speed,
            jpeg,
        )
        for n in range(args.boxes)
    ]
    tally.boxes = len(boxes)
    for index, box in enumerate(boxes):
        box.connect(loop)
        if index % 100 == 99:
            await asyncio.sleep(0.05)  # boxes come up over a few seconds, not in one instant
    until = time.monotonic() + args.seconds
    tasks = [loop.create_task(drive(box, until)) for box in boxes]
    await asyncio.sleep(args.seconds / 2 - args.outage_s / 2)
    county = [box for box in boxes if COUNTIES[0] in box.site]
    for box in county:
        box.cut_network()
    await asyncio.sleep(args.outage_s)
    tally.storm_started = time.time()
    for box in county:
        box.restore_network()
    while not all(box.online for box in county) and time.monotonic() < until + 60:
        await asyncio.sleep(0.1)
    tally.storm_reconnected = time.time()
    await asyncio.gather(*tasks)
    tally.held = len(tally.connected)
    deadline = time.monotonic() + 60
    while any(box.inflight or box.queue for box in boxes) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    for box in boxes:
        box.client.disconnect()
    await asyncio.sleep(1)  # the DISCONNECTs go out
    for box in boxes:
        if box.driver is not None:
            box.driver.detach()


@dataclass
class Result:
    nodes: int
    boxes: int
    cameras: int
    equivalent_cameras: int
    connections_held: int
    messages_per_s: float
    events: int
    stored: int
    lost: int
    unacked: int
    """Events still at their box at the end (never acknowledged: not lost, not counted)."""
    stream_p50_ms: float
    stream_p99_ms: float
    alerts: int
    alert_p50_ms: float
    alert_p99_ms: float
    storm_reconnect_s: float
    storm_stored_s: float
    """From the network's return until the last event the county's boxes queued was stored."""


async def warm_up_boxes(ports: list[int], tally: Tally) -> None:
    """One box per county on every MQTT front: each connects and sends a fall (start and end)
    and waits for the acknowledgements."""
    loop = asyncio.get_running_loop()
    jpeg = sample_snapshot()
    boxes = [
        Box(f"tongren-{county}-warm", f"edge-warm-{n}", port, tally, 1.0, jpeg)
        for n, (county, port) in enumerate((c, p) for c in COUNTIES for p in ports)
    ]
    for box in boxes:
        box.connect(loop)
    deadline = time.monotonic() + WARM_UP_TIMEOUT_S
    while not all(box.online for box in boxes) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for box in boxes:
        box.end(box.episode("cam-01", EventType.FALL))
    while not all(sent.acked for sent in tally.events.values()) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for box in boxes:
        box.client.disconnect()
    await asyncio.sleep(0.5)  # the DISCONNECTs go out
    for box in boxes:
        if box.driver is not None:
            box.driver.detach()


def warm_up(stack: Stack, ports: list[int]) -> None:
    """Before measuring: a fall through every broker node into every county's partition,
    waited for until each county has its alert, so that connections, subscriptions, first
    queries and partition leases are not in the figures. Its boxes, events and alerts are
    not counted (the measured run counts only its own)."""
    tally = Tally()
    asyncio.run(warm_up_boxes(ports, tally))
    sites = {sent.site for sent in tally.events.values()}
    alerted: set[str | None] = set()
    client = stack.redis()
    try:
        deadline = time.monotonic() + WARM_UP_TIMEOUT_S
        while time.monotonic() < deadline:
            alerted = {
                change.get("site")
                for _, change in client.xrange(ALERTS_STREAM)
                if change.get("change") == "created"
            }
            if sites <= alerted:
                return
            time.sleep(0.5)
    finally:
        client.close()
    raise RuntimeError(f"warm-up: no alert within {WARM_UP_TIMEOUT_S:g} s for {sites - alerted}")


def collect(stack: Stack, tally: Tally, args: argparse.Namespace, nodes: int) -> Result:
    """Wait until what was acknowledged is stored and decided, then read the streams."""
    acked = {key for key, sent in tally.events.items() if sent.acked}
    client = stack.redis()
    try:
        deadline = time.monotonic() + 180
        while True:
            stored: dict[str, tuple[str, str]] = {}  # key → (stream, entry id)
            for stream in stack.event_streams(client):
                for entry_id, fields in client.xrange(stream):
                    if fields.get("kind") == "event" and fields["key"] not in stored:
                        stored[fields["key"]] = (stream, entry_id)
            if acked <= stored.keys() or time.monotonic() > deadline:
                break
            time.sleep(2)
        time.sleep(5)  # the rules finish their last batches
        partitioner = Partitioner(PartitionSettings(enabled=True))
        by_entry = {entry: key for key, entry in stored.items()}
        alert_ms: list[float] = []
        for change_id, change in client.xrange(ALERTS_STREAM):
            if change.get("change") != "created" or not change.get("entry_id"):
                continue
            stream = partitioner.name(EVENTS_STREAM, change["site"])
            key = by_entry.get((stream, change["entry_id"]))
            sent = tally.events.get(key) if key else None
            if sent is not None and sent.published is not None:  # on the live feed: it is out
                alert_ms.append(_ms(change_id) - sent.published * 1000)
    finally:
        client.close()
    stream_ms = sorted(
        _ms(stored[key][1]) - (tally.events[key].published or 0) * 1000
        for key in acked & stored.keys()
    )
    alert_ms.sort()
    started = tally.storm_started or 0
    storm = (tally.storm_reconnected or 0) - started
    backlog = [
        _ms(stored[key][1]) / 1000
        for key in stored.keys() & acked
        if tally.events[key].during_outage
    ]
    storm_stored = max(backlog) - started if backlog else 0.0
    return Result(
        nodes=nodes,
        boxes=tally.boxes,
        cameras=tally.boxes * CAMERAS_PER_BOX,
        equivalent_cameras=int(tally.boxes * CAMERAS_PER_BOX * args.speed),
        connections_held=tally.held,
        messages_per_s=round(tally.messages_acked / args.seconds, 1),
        events=len(tally.events),
        stored=len(acked & stored.keys()),
        lost=len(acked - stored.keys()),
        unacked=len(tally.events) - len(acked),
        stream_p50_ms=round(percentile(stream_ms, 0.5), 1) if stream_ms else 0.0,
        stream_p99_ms=round(percentile(stream_ms, 0.99), 1) if stream_ms else 0.0,
        alerts=len(alert_ms),
        alert_p50_ms=round(percentile(alert_ms, 0.5), 1) if alert_ms else 0.0,
        alert_p99_ms=round(percentile(alert_ms, 0.99), 1) if alert_ms else 0.0,
        storm_reconnect_s=round(storm, 1),
        storm_stored_s=round(storm_stored, 1),
    )


def _ms(entry_id: str) -> int:
    """When Redis added a stream entry (the milliseconds of its id)."""
    return int(entry_id.split("-")[0])


@contextmanager
def back_office(directory: Path, database_url: str, nodes: int) -> Iterator[Stack]:
    with running_stack(directory, database_url, cluster=True, nats=True, nats_nodes=nodes) as stack:
        stack.write_config(
            rules={"file": str(Path(__file__).with_name("city_rules.yaml")), "lease_ttl_s": 6}
        )
        for n in range(1, nodes + 1):
            stack.start_ingest(f"ingest-{n}")
        for n in range(1, nodes + 1):
            stack.start_rules(f"rules-{n}")
        yield stack


def run(nodes: int, args: argparse.Namespace, directory: Path) -> Result:
    database = args.database or f"sqlite:///{directory}/city-{nodes}.sqlite3"
    with back_office(directory / f"nodes-{nodes}", database, nodes) as stack:
        assert isinstance(stack.broker, NatsCluster)
        ports = stack.broker.mqtt_ports
        progress.print(f"[dim]{nodes} node(s): warming up …[/dim]")
        warm_up(stack, ports)
        tally = Tally()
        progress.print(f"[dim]{nodes} node(s): {args.boxes} boxes for {args.seconds:g} s …[/dim]")
        asyncio.run(simulate(ports, args, tally))
        return collect(stack, tally, args, nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boxes", type=int, default=1000, help="edge boxes (4 cameras each)")
    parser.add_argument("--speed", type=float, default=10, help="box clocks run this much faster")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--outage-s", type=float, default=20, help="one county offline this long")
    parser.add_argument("--nodes", default="1,3", help="node counts to run, e.g. 1,3")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a SQLite file)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    args = parser.parse_args()
    if args.quick:
        args.boxes, args.speed, args.seconds, args.outage_s, args.nodes = 200, 30, 16, 5, "1"
    results = []
    with tempfile.TemporaryDirectory(prefix="shouwang-city-") as directory:
        for nodes in (int(n) for n in args.nodes.split(",")):
            results.append(run(nodes, args, Path(directory)))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return
    title = (
        f"{args.boxes} boxes × {CAMERAS_PER_BOX} cameras, {args.speed:g}× for {args.seconds:g} s"
    )
    table = Table(title=title)
    columns = (
        "nodes",
        "cameras (≡)",
        "held",
        "msg/s",
        "events",
        "lost",
        "unacked",
        "→stream p50/p99 ms",
        "alerts",
        "→alert p50/p99 ms",
        "storm: online / stored s",
    )
    for column in columns:
        table.add_column(column)
    for r in results:
        table.add_row(
            str(r.nodes),
            f"{r.cameras:,} (≡{r.equivalent_cameras:,})",
            f"{r.connections_held}/{r.boxes}",
            f"{r.messages_per_s:,.0f}",
            f"{r.events:,}",
            str(r.lost),
            str(r.unacked),
            f"{r.stream_p50_ms:g} / {r.stream_p99_ms:g}",
            str(r.alerts),
            f"{r.alert_p50_ms:g} / {r.alert_p99_ms:g}",
            f"{r.storm_reconnect_s:g} / {r.storm_stored_s:g}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
