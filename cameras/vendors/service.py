"""`shouwang camera-events`: the shell around the vendor readers.

An HTTP listening host (`POST /events/<camera>`) takes Hikvision EventNotificationAlert posts:
XML or JSON, or multipart with the report and its pictures. For cameras with a `url`, a client
holds the event stream open with digest auth (Hikvision `/ISAPI/Event/notification/
alertStream`, Dahua `/cgi-bin/eventManager.cgi?action=attach&codes=[All]&heartbeat=5`) and
reconnects with back-off. Reports become events through `Episodes` and are published; a post
is answered 200 only after the broker acknowledged its events. What cannot be used is
dead-lettered with the reason.
"""

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import redis.asyncio as aioredis
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from cameras.config import CamerasSettings, VendorCamera
from cameras.publisher import DeadLetters, NotDelivered, WirePublisher
from cameras.vendors import multipart, reports
from cameras.vendors.episodes import Camera, Emitted, Episodes
from cameras.wire import DeadLetter, Publish

log = structlog.get_logger("shouwang.cameras.vendors")

STREAM_PATHS = {
    "hikvision": "/ISAPI/Event/notification/alertStream",
    "dahua": "/cgi-bin/eventManager.cgi?action=attach&codes=[All]&heartbeat=5",
}
MAX_POST_BYTES = 8 * 1024 * 1024


def read_parts(
    vendor: str, parts: list[multipart.Part]
) -> list[tuple[reports.Report, bytes | None]]:
    """The reports in a post's or a stream's parts, each with the picture that follows it."""
    found: list[tuple[reports.Report, bytes | None]] = []
    for part in parts:
        if part.content_type.startswith("image/"):
            if found and found[-1][1] is None:
                found[-1] = (found[-1][0], part.body)
            continue
        if vendor == "dahua":
            for line in part.body.decode("utf-8", "replace").splitlines():
                if line.strip():
                    found.extend(_one(reports.dahua, line))
        else:
            found.extend(_one(reports.hikvision, part.body))
    return found


def _one(
    reader: Callable[[Any], reports.Report], value: Any
) -> list[tuple[reports.Report, bytes | None]]:
    try:
        return [(reader(value), None)]
    except reports.Ignored:
        return []


class CameraEvents:
    """The listening host, the held streams and the episode expiry, in one event loop."""

    def __init__(
        self, settings: CamerasSettings, redis_client: aioredis.Redis, publisher: WirePublisher
    ) -> None:
        self.settings = settings.camera_events
        self.publisher = publisher
        self.dead_letters = DeadLetters(
            redis_client, self.settings.edge_id, self.settings.deadletter_stream
        )
        self.cameras = {c.id: c for c in self.settings.cameras}
        self.identities = {
            c.id: Camera(c.site, c.id, self.settings.edge_id, c.name or "")
            for c in self.settings.cameras
        }
        self.episodes = Episodes(
            self.settings.update_interval_s,
            self.settings.quiet_end_s,
            ZoneInfo(self.settings.timezone),
            self.settings.max_snapshot_bytes,
        )
        self.app = Starlette(routes=[Route("/events/{camera}", self._post, methods=["POST"])])
        self.connected: dict[str, bool] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Serve and hold the streams until `stop` is set."""
        config = uvicorn.Config(
            self.app,
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            lifespan="off",
        )
        server = uvicorn.Server(config)
        tasks = [asyncio.create_task(server.serve()), asyncio.create_task(self._expire(stop))]
        tasks += [
            asyncio.create_task(self._stream(camera, stop))
            for camera in self.settings.cameras
            if camera.url
        ]
        await stop.wait()
        server.should_exit = True
        for task in tasks[1:]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the listening host ---------------------------------------------------------------

    async def _post(self, request: Request) -> PlainTextResponse:
        now = time.time()
        camera_id = request.path_params["camera"]
        body = await request.body()
        source = f"{'camera-events'}/{camera_id}"
        camera = self.cameras.get(camera_id)
        if camera is None:
            await self._dead(source, "unknown_device", f"no camera {camera_id!r}", body, now)
            return PlainTextResponse("unknown camera", status_code=404)
        if len(body) > MAX_POST_BYTES:
            await self._dead(source, "oversize", f"{len(body)} bytes", body[:1024], now)
            return PlainTextResponse("too large", status_code=413)
        content_type = request.headers.get("content-type", "")
        try:
            if content_type.lower().startswith("multipart/"):
                parts = multipart.split(body, content_type)
            else:
                parts = [multipart.Part({"content-type": content_type}, body)]
            found = read_parts(camera.vendor, parts)
        except (multipart.MultipartError, reports.ReportError) as exc:
            reason = getattr(exc, "reason", "bad_multipart")
            await self._dead(source, reason, str(exc), body, now)
            return PlainTextResponse(str(exc), status_code=400)
        emitted = [
            item
            for report, picture in found
            if camera.channel is None or report.channel == camera.channel
            for item in self.episodes.observe(
                self.identities[camera.id], report, datetime.now(UTC), picture
            )
        ]
        try:
            await self._publish(emitted)
        except NotDelivered as exc:
            return PlainTextResponse(str(exc), status_code=503)
        return PlainTextResponse("OK")

    # -- held streams ---------------------------------------------------------------------

    async def _stream(self, camera: VendorCamera, stop: asyncio.Event) -> None:
        assert camera.url is not None
        url = camera.url.rstrip("/") + STREAM_PATHS[camera.vendor]
        password = camera.password.get_secret_value() if camera.password else ""
        auth = httpx.DigestAuth(camera.username, password)
        timeout = httpx.Timeout(10.0, read=self.settings.read_timeout_s)
        backoff = 1.0
        while not stop.is_set():
            got_any = False
            try:
                async with (
                    httpx.AsyncClient(auth=auth, timeout=timeout) as client,
                    client.stream("GET", url) as response,
                ):
                    if response.status_code != 200:
                        raise ConnectionError(f"HTTP {response.status_code} from {url}")
                    reader = multipart.PartReader(
                        multipart.boundary_of(response.headers.get("content-type", ""))
                    )
                    self.connected[camera.id] = True
                    log.info("stream.connected", camera=camera.id, vendor=camera.vendor)
                    async for chunk in response.aiter_bytes():
                        parts = reader.feed(chunk)
                        if parts:
                            got_any = True
                            await self._stream_parts(camera, parts)
                raise ConnectionError("the camera closed the stream")
            except (httpx.HTTPError, ConnectionError, OSError, multipart.MultipartError) as exc:
                self.connected[camera.id] = False
                backoff = 1.0 if got_any else min(backoff * 2, self.settings.reconnect_max_s)
                log.warning("stream.lost", camera=camera.id, error=str(exc), retry_s=backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(backoff, self.settings.reconnect_max_s))

    async def _stream_parts(self, camera: VendorCamera, parts: list[multipart.Part]) -> None:
        now = time.time()
        source = f"camera-events/{camera.id}"
        emitted: list[Emitted] = []
        for part in parts:
            try:
                found = read_parts(camera.vendor, [part])
            except reports.ReportError as exc:
                await self._dead(source, exc.reason, exc.detail, part.body, now)
                continue
            for report, picture in found:
                if camera.channel is None or report.channel == camera.channel:
                    emitted += self.episodes.observe(
                        self.identities[camera.id], report, datetime.now(UTC), picture
                    )
        for attempt in range(3):
            try:
                await self._publish(emitted)
                return
            except NotDelivered as exc:
                log.warning(
                    "stream.not_delivered", camera=camera.id, error=str(exc), attempt=attempt + 1
                )

    # -- shared ---------------------------------------------------------------------------

    async def _expire(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(1.0)
            ended = self.episodes.expire(self.identities, datetime.now(UTC))
            try:
                await self._publish(ended)
            except NotDelivered as exc:
                log.warning("expire.not_delivered", error=str(exc))

    async def _publish(self, emitted: list[Emitted]) -> None:
        items = []
        for event, shot in emitted:
            if shot is not None:
                items.append(Publish(shot))
            items.append(Publish(event))
            log.info(
                "event",
                camera=event.camera,
                type=event.type.value,
                phase=event.phase.value,
                event_id=event.event_id,
            )
        await self.publisher.publish_all(items, self.settings.publish_timeout_s)

    async def _dead(
        self, source: str, reason: str, detail: str, payload: bytes, now: float
    ) -> None:
        await self.dead_letters.write([DeadLetter(source, reason, detail, payload, now)])


def run_camera_events(settings: CamerasSettings) -> None:
    """Serve until SIGINT or SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        client = aioredis.Redis.from_url(settings.redis.url)
        publisher = WirePublisher(settings.mqtt, "shouwang-camera-events")
        publisher.start()
        try:
            await CameraEvents(settings, client, publisher).run(stop)
        finally:
            publisher.stop()
            await client.aclose()

    asyncio.run(main())
