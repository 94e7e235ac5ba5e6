"""The whole back-office pipeline of one fault test, every part its own and real:

    edge publisher ─▶ Mosquitto (the project's tuning) ─▶ ingest process(es) ─▶ Redis (AOF)
        (or a NATS cluster, ingest reading its JetStream; or a Redis Cluster with partitions)
        ─▶ rules process(es) ─▶ SQL records (SQLite or PostgreSQL) ─▶ alerts, notification jobs
        ─▶ notifier process ─▶ local push service / webhook

The broker, Redis and the database are private to the test, so the services run with their
production names (`shouwang:events`, the `rules` group…) and one config file, and a test may
stop, kill or restart any of them. Redis may be a Redis Cluster of the test's own, with
partitions on (`running_stack(..., cluster=True)`: the city-scale tests in tests/city).
"""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import redis
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from edge.publish import EdgePublisher, PublisherSettings
from records.db import make_engine, make_sessionmaker
from records.migrate import upgrade
from shouwang.contracts import BehaviourEvent, MessageKind, build_topic
from shouwang.contracts.examples import example
from shouwang.partitions import in_partition
from shouwang.redis_client import connect
from shouwang.redis_keys import EVENTS_STREAM, partitions_key, worker_key
from shouwang.settings import MqttSettings, RedisSettings
from tests.helpers.mosquitto import Mosquitto, running_mosquitto
from tests.helpers.nats_cluster import NatsCluster, running_nats
from tests.helpers.redis_cluster import RedisClusterNodes, running_cluster
from tests.helpers.redis_server import RedisServer, running_redis
from tests.helpers.service_process import ServiceProcess

RULES_FILE = Path(__file__).with_name("rules.yaml")
"""One alert per fall episode (`group_by: [episode]`), so alerts can be counted per episode."""
EDGE = "edge-01"
PROBE_SITE = "probe"


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    """Poll `condition` until it holds; fail saying `what` was awaited if `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


@dataclass
class Stack:
    """A running pipeline: broker, Redis and database up; services started on demand."""

    directory: Path
    site: str
    broker: Mosquitto | NatsCluster
    redis_server: RedisServer | RedisClusterNodes
    database_url: str
    engine: Engine
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    publishers: list[EdgePublisher] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def mqtt_port(self) -> int:
        """Where edge boxes connect (with NATS: its first node's MQTT front)."""
        return self.broker.port if isinstance(self.broker, Mosquitto) else self.broker.mqtt_ports[0]

    @property
    def cluster(self) -> bool:
        """Whether Redis is a cluster (and events are partitioned)."""
        return isinstance(self.redis_server, RedisClusterNodes)

    @property
    def config(self) -> Path:
        return self.directory / "shouwang.yaml"

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    def write_config(self, **sections: dict[str, Any]) -> Path:
        """The one config file every service reads; `sections` extend its sections."""
        config: dict[str, Any] = {
            "mqtt": {"host": "127.0.0.1", "port": self.mqtt_port, "keepalive_s": 5},
            "redis": {"url": self.redis_server.url} | self._cluster_settings(),
            "partitions": {"enabled": self.cluster},
            "database": {"url": self.database_url},
            "ingest": {
                "snapshot_dir": str(self.directory / "snapshots"),
                "metrics_port": 0,
                "state_interval_s": 0.5,
            },
            "rules": {
                "file": str(RULES_FILE),
                "group_start": "0",
                "reclaim_idle_ms": 5000,
                "reclaim_interval_s": 1,
                "metrics_port": 0,
            },
            "notify": {"group_start": "0", "metrics_port": 0},
        }
        if isinstance(self.broker, NatsCluster):
            config["ingest"] |= {
                "source": "jetstream",
                "jetstream": {"servers": self.broker.client_urls, "ack_wait_s": 10},
                "broker_stats": False,
            }
        for name, values in sections.items():
            config.setdefault(name, {}).update(values)
        self.settings = config
        self.config.write_text(yaml.safe_dump(config, allow_unicode=True))
        return self.config

    # -- services -------------------------------------------------------------------------

    def service(self, name: str, args: list[str]) -> ServiceProcess:
        process = ServiceProcess(name, [*args, "--config", str(self.config)], self.logs)
        self.services[name] = process
        return process.start()

    def start_ingest(self, worker_id: str = "ingest-1") -> ServiceProcess:
        """An ingest worker process (`shouwang ingest --worker-id …`) on the shared
        subscription; returns once the broker delivers to it."""
        worker = self.service(worker_id, ["ingest", "--worker-id", worker_id])
        self.wait_ingest_subscribed([worker_id])
        return worker

    def start_rules(self, consumer: str = "rules-1") -> ServiceProcess:
        """A rules worker process (`shouwang rules run --consumer …`)."""
        return self.service(consumer, ["rules", "run", "--consumer", consumer])

    def start_notifier(self, consumer: str = "notifier-1") -> ServiceProcess:
        """A notifier process (`shouwang notify run --consumer …`)."""
        return self.service(consumer, ["notify", "run", "--consumer", consumer])

    def check_services(self) -> None:
        """Fail with its log if a service that should run has exited."""
        for process in self.services.values():
            if process.starts and process.process is not None:
                process.check_alive()

    def wait_ingest_subscribed(self, worker_ids: list[str], timeout: float = 60.0) -> None:
        """Publish heartbeats of a probe edge (they never reach the events stream) until each
        worker has received one: its shared subscription is in place at the broker."""
        client = self.redis()
        probe = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{uuid.uuid4().hex}")
        probe.connect("127.0.0.1", self.mqtt_port)
        probe.loop_start()
        topic = build_topic(PROBE_SITE, "probe-edge", MessageKind.HEARTBEAT)
        payload = example(
            MessageKind.HEARTBEAT, site=PROBE_SITE, source="probe-edge"
        ).model_dump_json()

        def received(worker_id: str) -> bool:
            state = client.hget(worker_key(worker_id), "state")
            return bool(state) and '"received"' in state

        def all_received() -> bool:
            for worker_id in worker_ids:
                self.services[worker_id].check_alive()
            probe.publish(topic, payload, qos=1)
            return all(received(worker_id) for worker_id in worker_ids)

        try:
            wait_until(all_received, timeout, f"ingest workers {worker_ids} to subscribe", 0.2)
        finally:
            probe.disconnect()
            probe.loop_stop()
            client.close()

    # -- edge -----------------------------------------------------------------------------

    def publisher(
        self, port: int | None = None, *, site: str | None = None, **overrides: Any
    ) -> EdgePublisher:
        """A started edge publisher of this test's site (or `site`; its queue in the test's
        folder), connecting to the broker, or to `port` (a proxy in front of it)."""
        values: dict[str, Any] = {
            "queue_path": self.directory / f"edge-queue-{len(self.publishers)}.sqlite3",
            "replay_jitter_s": 0,
            "replay_rate": 2000,
            "replay_burst": 200,
            "max_inflight": 100,
            "reconnect_min_s": 1,
            "reconnect_max_s": 1,
        }
        if isinstance(self.broker, NatsCluster):
            values["mqtt_version"] = "3.1.1"  # NATS speaks MQTT 3.1.1
        values.update(overrides)
        publisher = EdgePublisher(
            site=site or self.site,
            edge=EDGE,
            mqtt_settings=MqttSettings(port=port or self.mqtt_port, keepalive_s=5),
            settings=PublisherSettings(**values),
        )
        publisher.start()
        self.publishers.append(publisher)
        return publisher

    @staticmethod
    def produce(publisher: EdgePublisher, events: list[BehaviourEvent]) -> threading.Thread:
        """Hand `events` to the publisher one by one on a thread (as cameras do); join it."""

        def run() -> None:
            for event in events:
                publisher.publish_event(event)

        thread = threading.Thread(target=run, name="edge-events", daemon=True)
        thread.start()
        return thread

    # -- stores ---------------------------------------------------------------------------

    def stored(self) -> int:
        """Entries on the events stream(s) (events and edge status changes)."""
        client = self.redis()
        try:
            return sum(int(client.xlen(stream)) for stream in self.event_streams(client))
        finally:
            client.close()

    def event_streams(self, client: redis.Redis) -> list[str]:
        """The events stream, or with partitions every partition's."""
        if not self.cluster:
            return [EVENTS_STREAM]
        partitions = sorted(client.smembers(partitions_key()))
        return [in_partition(EVENTS_STREAM, partition) for partition in partitions]

    def _cluster_settings(self) -> dict[str, Any]:
        if not isinstance(self.redis_server, RedisClusterNodes):
            return {}
        nodes = [f"{node.host}:{node.port}" for node in self.redis_server.nodes]
        return {"cluster": True, "cluster_nodes": nodes, "replica_acks": 1}

    def redis(self) -> redis.Redis:
        """A new client of the test's Redis or Redis Cluster (strings, not bytes)."""
        settings = RedisSettings(url=self.redis_server.url, **self._cluster_settings())
        return connect(settings, decode_responses=True, socket_timeout=10)

    def sessions(self, read_only: bool = True) -> sessionmaker[Session]:
        return make_sessionmaker(self.engine, read_only=read_only)

    def stop(self) -> None:
        for publisher in self.publishers:
            publisher.stop(timeout=1)
        for process in self.services.values():
            process.terminate(timeout=20)


@contextmanager
def running_stack(
    directory: Path,
    database_url: str,
    *,
    cluster: bool = False,
    nats: bool = False,
    nats_nodes: int = 3,
) -> Iterator[Stack]:
    """Broker (Mosquitto, or with `nats` a 3-node NATS cluster read through JetStream), Redis
    (or, with `cluster`, a Redis Cluster and partitions) and a migrated database for one test,
    torn down at the end (services and publishers it started included)."""
    with ExitStack() as resources:
        broker: Mosquitto | NatsCluster = resources.enter_context(
            running_nats(directory / "nats", nats_nodes)
            if nats
            else running_mosquitto(directory / "mosquitto", tuned=True)
        )
        server: RedisServer | RedisClusterNodes = resources.enter_context(
            running_cluster(directory / "cluster")
            if cluster
            else running_redis(directory / "redis")
        )
        engine = make_engine(database_url)
        resources.callback(engine.dispose)
        upgrade(engine)
        stack = Stack(
            directory=directory,
            site=f"t{uuid.uuid4().hex[:10]}",
            broker=broker,
            redis_server=server,
            database_url=database_url,
            engine=engine,
        )
        stack.write_config()
        resources.callback(stack.stop)
        yield stack
