"""TLS with a private CA and user name/password, against a Mosquitto of the test's own."""

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from edge.publish import EdgePublisher, PublisherSettings
from shouwang.settings import MqttSettings
from tests.helpers.edge_events import make_event
from tests.helpers.mosquitto import Mosquitto
from tests.helpers.subscriber import Subscriber

pytestmark = pytest.mark.integration

EDGE = "edge-01"


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mosquitto, Path]]:
    """A TLS-only, password-only broker; returns it and the CA file that signed its cert."""
    if shutil.which("openssl") is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("openssl and mosquitto_passwd are needed for the TLS test")
    d = tmp_path_factory.mktemp("tls")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for command in (
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca"
        " -keyout ca.key -out ca.crt",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key"
        " -out server.csr",
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2"
        " -extfile san.ext -out server.crt",
    ):
        _run(*command.split(), cwd=d)
    _run("mosquitto_passwd", "-b", "-c", "passwd", EDGE, "s3cret", cwd=d)
    broker = Mosquitto(
        d,
        allow_anonymous=False,
        extra=f"cafile {d}/ca.crt\ncertfile {d}/server.crt\nkeyfile {d}/server.key\n"
        f"password_file {d}/passwd\n",
    )
    broker.start()
    yield broker, d / "ca.crt"
    broker.stop()


def _publisher(tmp_path: Path, broker: Mosquitto, ca: Path, password: str) -> EdgePublisher:
    return EdgePublisher(
        site=f"t{uuid.uuid4().hex[:10]}",
        edge=EDGE,
        mqtt_settings=MqttSettings(
            port=broker.port, username=EDGE, password=SecretStr(password), tls=True, ca_file=ca
        ),
        settings=PublisherSettings(queue_path=tmp_path / "outbox.sqlite3", replay_jitter_s=0),
    )


def test_tls_and_password_deliver(tmp_path: Path, secure_broker: tuple[Mosquitto, Path]) -> None:
    broker, ca = secure_broker
    publisher = _publisher(tmp_path, broker, ca, "s3cret")
    # In ingest's place: events nobody subscribes to stay queued at the edge.
    subscriber = Subscriber(
        broker.port,
        f"shouwang/v1/{publisher.site}/+/event",
        username=EDGE,
        password="s3cret",
        ca_file=ca,
    ).start()
    publisher.start()
    try:
        for i in range(5):
            publisher.publish_event(make_event(publisher.site, EDGE, f"tls-{i:06d}"))
        assert publisher.wait_until_delivered(timeout=15)  # PUBACKs came over TLS
        assert publisher.stats().queue.sent == 5
    finally:
        publisher.stop(timeout=2)
        subscriber.stop()


def test_wrong_password_keeps_events_queued(
    tmp_path: Path, secure_broker: tuple[Mosquitto, Path]
) -> None:
    broker, ca = secure_broker
    publisher = _publisher(tmp_path, broker, ca, "wrong")
    publisher.start()  # refused by the broker: retried with back-off, never raised
    try:
        publisher.publish_event(make_event(publisher.site, EDGE, "denied-000001"))
        assert not publisher.wait_until_delivered(timeout=1.5)
        assert not publisher.connected and publisher.queue_depth == 1
    finally:
        publisher.stop(timeout=1)
