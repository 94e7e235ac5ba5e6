"""The broker with a password file and the generated ACL: devices stay in their own topics."""

import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import redis
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from shouwang.contracts import MessageKind
from shouwang.contracts.examples import example
from shouwang_cli.acl import acl_file, edge_entry, ingest_entry
from tests.helpers.mosquitto import PROJECT_TUNING, Mosquitto
from tests.ingest.conftest import Namespace, running_worker, wait_for

pytestmark = pytest.mark.integration

PASSWORDS = {"ingest": "ingest-secret", "edge-a": "a-secret", "edge-b": "b-secret"}


@pytest.fixture
def secured_broker(tmp_path: Path, ns: Namespace) -> Iterator[Mosquitto]:
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    passwd.touch()
    for user, password in PASSWORDS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    acl.write_text(
        acl_file(
            [
                ingest_entry("ingest"),
                edge_entry(ns.site, "edge-a", ["cam-a1"]),
                edge_entry(ns.site, "edge-b", ["cam-b1"]),
            ]
        )
    )
    broker = Mosquitto(
        tmp_path / "broker",
        allow_anonymous=False,
        tuning=PROJECT_TUNING,
        extra=f"password_file {passwd}\nacl_file {acl}\n",
    )
    broker.start()
    yield broker
    broker.stop()


def connect(port: int, user: str | None, password: str | None) -> tuple[mqtt.Client, str]:
    """Connect (MQTT 5) and return the client and the broker's CONNACK reason."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"sec-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    if user:
        client.username_pw_set(user, password)
    answered = threading.Event()
    outcome: list[str] = []

    def on_connect(*args: object) -> None:
        outcome.append(str(args[3]))
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert answered.wait(10), "no CONNACK"
    return client, outcome[0]


def test_anonymous_and_wrong_password_are_refused(secured_broker: Mosquitto) -> None:
    for user, password in ((None, None), ("edge-a", "wrong")):
        client, reason = connect(secured_broker.port, user, password)
        client.loop_stop()
        assert reason in {"Not authorized", "Bad user name or password"}, reason


def test_edge_box_cannot_publish_as_another_or_read_others_events(
    secured_broker: Mosquitto, ns: Namespace, redis_client: redis.Redis, settings_for
) -> None:
    settings = settings_for(
        port=secured_broker.port, username="ingest", password=PASSWORDS["ingest"]
    )
    edge_a, reason = connect(secured_broker.port, "edge-a", PASSWORDS["edge-a"])
    assert reason == "Success"
    spied: list[str] = []
    edge_a.on_message = lambda _c, _u, message: spied.append(message.topic)
    edge_a.subscribe(f"shouwang/v1/{ns.site}/+/event", qos=1)
    edge_b, _ = connect(secured_broker.port, "edge-b", PASSWORDS["edge-b"])

    def event(camera: str) -> str:
        return example(MessageKind.EVENT, site=ns.site, source=camera).model_dump_json()

    with running_worker(settings) as worker:
        own = edge_a.publish(ns.topic("cam-a1", "event"), event("cam-a1"), qos=1)
        forged = edge_a.publish(ns.topic("cam-b1", "event"), event("cam-b1"), qos=1)
        forged_status = edge_a.publish(
            ns.topic("edge-b", "status"),
            example(MessageKind.STATUS, site=ns.site, source="edge-b").model_dump_json(),
            qos=1,
        )
        b_own = edge_b.publish(ns.topic("cam-b1", "event"), event("cam-b1"), qos=1)
        for info in (own, forged, forged_status, b_own):
            info.wait_for_publish(10)
        assert wait_for(lambda: redis_client.xlen(ns.stream) >= 2)
        assert not wait_for(lambda: redis_client.xlen(ns.stream) > 2, timeout=1.5)
    sources = sorted(fields["source"] for _, fields in redis_client.xrange(ns.stream))
    assert sources == ["cam-a1", "cam-b1"]  # the two genuine events only
    assert worker.counts["received"] == 2
    assert spied == [], "edge-a read events it has no read access to"
    for client in (edge_a, edge_b):
        client.disconnect()
        client.loop_stop()
