"""`shouwang camera-events` with cameras stood in by local HTTP servers that speak the vendors'
formats: Hikvision posts (XML, JSON, multipart with a JPEG), a Hikvision alertStream behind
digest auth that drops mid-message, a Dahua attach stream; through the broker, ingest and
Redis."""

import asyncio
import hashlib
import secrets
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio as aioredis
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from cameras.config import CamerasSettings
from cameras.publisher import WirePublisher
from cameras.vendors.service import CameraEvents
from ingest.worker import IngestWorker
from tests.cameras.conftest import REDIS_URL, Names
from tests.cameras.gateway import stream_payloads, wait_for
from tests.cameras.vendor_payloads import dahua_part, hik_json, hik_xml, jpeg, part
from tests.helpers.mosquitto import free_port

pytestmark = pytest.mark.integration


class Served:
    """A Starlette app on uvicorn in a thread."""

    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Served":
        self.thread.start()
        wait_for(lambda: self.server.started, 10)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class FakeCamera:
    """A camera's event streams behind HTTP digest auth (qop=auth, as the vendors use)."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.connections = 0
        self.refused = 0
        self.app = Starlette(
            routes=[
                Route("/ISAPI/Event/notification/alertStream", self.alert_stream),
                Route("/cgi-bin/eventManager.cgi", self.attach),
            ]
        )

    def authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("digest "):
            return False
        fields = dict(
            (k.strip(), v.strip().strip('"'))
            for k, _, v in (item.partition("=") for item in header[7:].split(","))
        )
        ha1 = hashlib.md5(f"{fields['username']}:camera:{self.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"GET:{fields['uri']}".encode()).hexdigest()
        expected = hashlib.md5(
            f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}".encode()
        ).hexdigest()
        return secrets.compare_digest(expected, fields.get("response", ""))

    def challenge(self) -> Response:
        self.refused += 1
        nonce = secrets.token_hex(8)
        return Response(
            status_code=401,
            headers={"WWW-Authenticate": f'Digest realm="camera", nonce="{nonce}", qop="auth"'},
        )

    async def alert_stream(self, request: Request) -> Response:
        if not self.authorised(request):
            return self.challenge()
        self.connections += 1
        first = self.connections == 1

        async def body() -> AsyncIterator[bytes]:
            if first:
                yield part("application/xml", hik_xml("fielddetection", count=1))
                yield part("application/xml", hik_xml("fielddetection", "inactive", count=2))
                whole = part("application/xml", hik_xml("linedetection", count=3))
                yield whole[: len(whole) // 2]  # the connection drops in the middle
                return
            yield part("application/xml", hik_xml("linedetection", count=4))
            for _ in range(200):  # heartbeats until the client goes
                yield part("application/xml", hik_xml("videoloss", "inactive", count=5))
                await asyncio.sleep(0.1)

        return StreamingResponse(body(), media_type="multipart/mixed; boundary=boundary")

    async def attach(self, request: Request) -> Response:
        if not self.authorised(request):
            return self.challenge()

        async def body() -> AsyncIterator[bytes]:
            yield dahua_part("Code=CrossLineDetection;action=Start;index=0")
            yield dahua_part("Code=CrossLineDetection;action=Stop;index=0")
            for _ in range(200):
                yield dahua_part("Code=Heartbeat;action=Pulse;index=0")
                await asyncio.sleep(0.1)

        return StreamingResponse(
            body(), media_type="multipart/x-mixed-replace; boundary=myboundary"
        )


class EventsThread:
    """CameraEvents with its own loop on a thread."""

    def __init__(self, settings: CamerasSettings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.stop_event = asyncio.Event()
            client = aioredis.Redis.from_url(REDIS_URL)
            publisher = WirePublisher(self.settings.mqtt, "test-camera-events")
            publisher.start()
            try:
                await CameraEvents(self.settings, client, publisher).run(self.stop_event)
            finally:
                publisher.stop()
                await client.aclose()

        self.loop.run_until_complete(main())

    def __enter__(self) -> "EventsThread":
        self.thread.start()
        port = self.settings.camera_events.port
        wait_for(lambda: _listening(port), 15)
        return self

    def __exit__(self, *_: Any) -> None:
        if self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(15)


def _listening(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
        return True
    except httpx.HTTPError:
        return False


def settings_for(ns: Names, cameras: list[dict[str, Any]]) -> CamerasSettings:
    return CamerasSettings.load(
        None,
        mqtt={"host": "127.0.0.1", "port": 1883},
        redis={"url": REDIS_URL},
        camera_events={
            "host": "127.0.0.1",
            "port": free_port(),
            "cameras": cameras,
            "deadletter_stream": ns.deadletter,
            "reconnect_max_s": 0.5,
            "quiet_end_s": 60,
        },
    )


def events_of(client: redis.Redis, ns: Names) -> list[dict[str, Any]]:
    return [e for e in stream_payloads(client, ns.stream) if e["kind"] == "event"]


def test_posts_in_xml_json_and_multipart_with_a_picture(
    ns: Names, redis_client: redis.Redis, ingest: IngestWorker, tmp_path: Path
) -> None:
    settings = settings_for(
        ns, [{"id": "cam-pond", "name": "村口池塘", "site": ns.site, "vendor": "hikvision"}]
    )
    with EventsThread(settings):
        base = f"http://127.0.0.1:{settings.camera_events.port}/events"
        body = (
            part("application/xml", hik_xml(), name="fielddetection")
            + part("image/jpeg", jpeg(1920, 1080), name="fielddetectionImage")
            + b"--boundary--\r\n"
        )
        answer = httpx.post(
            f"{base}/cam-pond",
            content=body,
            headers={"Content-Type": "multipart/form-data; boundary=boundary"},
        )
        assert answer.status_code == 200, answer.text
        answer = httpx.post(
            f"{base}/cam-pond", content=hik_json(), headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 200, answer.text
        assert (
            httpx.post(
                f"{base}/cam-pond",
                content=b"<EventNotificationAlert>",
                headers={"Content-Type": "application/xml"},
            ).status_code
            == 400
        )
        assert httpx.post(f"{base}/stranger", content=hik_json()).status_code == 404
        events = wait_for(lambda: (e := events_of(redis_client, ns)) and len(e) == 2 and e)
        by_type = {e["payload"]["type"]: e["payload"] for e in events}
        assert by_type["intrusion"]["origin"] == "camera" and by_type["intrusion"]["snapshot"]
        assert {e["camera_name"] for e in by_type.values()} == {"村口池塘"}  # its config's name
        assert by_type["tripwire"]["attributes"]["channel_name"] == "学校路口"
        snapshots = wait_for(
            lambda: [e for e in stream_payloads(redis_client, ns.stream) if e["kind"] == "snapshot"]
        )
        assert snapshots[0]["event_id"] == by_type["intrusion"]["event_id"]
        reasons = wait_for(
            lambda: (
                [e["reason"] for e in stream_payloads(redis_client, ns.deadletter)]
                if len(redis_client.xrange(ns.deadletter)) == 2
                else None
            )
        )
        assert sorted(reasons) == ["malformed_xml", "unknown_device"]


def test_held_streams_reconnect_after_a_drop_and_lose_no_complete_report(
    ns: Names, redis_client: redis.Redis, ingest: IngestWorker
) -> None:
    camera = FakeCamera("s3cret")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = settings_for(
        ns,
        [
            {
                "id": "cam-hik",
                "site": ns.site,
                "vendor": "hikvision",
                "url": url,
                "password": "s3cret",
            },
            {
                "id": "cam-dahua",
                "site": ns.site,
                "vendor": "dahua",
                "url": url,
                "password": "s3cret",
            },
        ],
    )
    with Served(camera.app, port), EventsThread(settings):

        def stored() -> list[tuple[str, str, str]]:
            return sorted(
                (e["payload"]["camera"], e["payload"]["type"], e["payload"]["phase"])
                for e in events_of(redis_client, ns)
            )

        expected = sorted(
            [
                ("cam-hik", "intrusion", "start"),
                ("cam-hik", "intrusion", "end"),
                ("cam-hik", "tripwire", "start"),  # from the second connection, not the cut one
                ("cam-dahua", "tripwire", "start"),
                ("cam-dahua", "tripwire", "end"),
            ]
        )
        wait_for(lambda: stored() == expected, 30)
        assert camera.connections >= 2 and camera.refused >= 2  # digest challenged each time
        hik = [
            e["payload"] for e in events_of(redis_client, ns) if e["payload"]["camera"] == "cam-hik"
        ]
        assert len({e["event_id"] for e in hik}) == 3
