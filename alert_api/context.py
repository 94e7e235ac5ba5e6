"""What every request handler shares: settings, database sessions, Redis, the URL signer."""

import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import redis
from fastapi import Request
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from alert_api.settings import ApiSettings
from alert_api.tokens import UrlSigner, new_token
from records.cameras import CameraDevice
from records.db import make_engine, make_sessionmaker
from records.devices import SensorDevice
from records.outbox import OutputStreams
from records.people import Area, Site
from records.users import ApiSecret
from shouwang.partitions import Partitioner
from shouwang.redis_client import connect

SIGNING_SECRET = "url_signing_key"


@dataclass(frozen=True, slots=True)
class AreaInfo:
    """One area of the hierarchy, as the API shows and groups by it."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None


@dataclass
class AreaCache:
    """Every area by id, re-read from the database at most every `ttl_s` seconds."""

    reads: sessionmaker[Session]
    ttl_s: float = 30.0
    _areas: dict[int, AreaInfo] = field(default_factory=dict)
    _loaded_at: float = -1e9

    def all(self) -> dict[int, AreaInfo]:
        """The areas (possibly `ttl_s` old)."""
        if time.monotonic() - self._loaded_at > self.ttl_s:
            with self.reads() as session:
                rows = session.execute(
                    select(Area.id, Area.code, Area.name, Area.level, Area.parent_id)
                ).all()
            self._areas = {
                r.id: AreaInfo(r.id, r.code, r.name, r.level.value, r.parent_id) for r in rows
            }
            self._loaded_at = time.monotonic()
        return self._areas

    def name(self, area_id: int | None) -> str | None:
        """An area's name (None if unknown)."""
        if area_id is None:
            return None
        area = self.all().get(area_id)
        if area is None:
            self._loaded_at = -1e9
            area = self.all().get(area_id)
        return area.name if area else None

    def ancestor(self, area_id: int | None, level: str) -> AreaInfo | None:
        """The area at `level` containing `area_id` (itself if it is at that level)."""
        areas = self.all()
        current = areas.get(area_id) if area_id is not None else None
        while current is not None and current.level != level:
            current = areas.get(current.parent_id) if current.parent_id is not None else None
        return current


@dataclass
class SourceNames:
    """Display names of sites and of the cameras and sensors at them, from the records (site
    names, GB/T 28181 camera names, sensors' fitted locations), re-read every `ttl_s`."""

    reads: sessionmaker[Session]
    ttl_s: float = 30.0
    _sites: dict[str, str] = field(default_factory=dict)
    _sources: dict[tuple[str, str], str] = field(default_factory=dict)
    _loaded_at: float = -1e9

    def _load(self) -> None:
        if time.monotonic() - self._loaded_at <= self.ttl_s:
            return
        with self.reads() as session:
            self._sites = {c: n for c, n in session.execute(select(Site.code, Site.name)) if n}
            sensors = session.execute(
                select(SensorDevice.site, SensorDevice.device, SensorDevice.location)
            )
            cameras = session.execute(
                select(CameraDevice.site, CameraDevice.camera, CameraDevice.name).where(
                    CameraDevice.camera.is_not(None)
                )
            )
            self._sources = {(s, d): n for s, d, n in [*sensors, *cameras] if n and d}
        self._loaded_at = time.monotonic()

    def site(self, code: str) -> str:
        """A site's name, else its code."""
        self._load()
        return self._sites.get(code, code)

    def source(self, site: str, source: str) -> str:
        """A camera's or sensor's name at `site`, else its id."""
        self._load()
        return self._sources.get((site, source), source)


@dataclass
class AppContext:
    """Shared state of one API process."""

    settings: ApiSettings
    engine: Engine
    reads: sessionmaker[Session]
    writes: sessionmaker[Session]
    redis: redis.Redis
    signer: UrlSigner
    streams: OutputStreams
    zone: ZoneInfo
    areas: AreaCache
    names: SourceNames
    partitioner: Partitioner

    @classmethod
    def build(cls, settings: ApiSettings) -> "AppContext":
        """Connect to the database and Redis (the schema must be migrated)."""
        engine = make_engine(settings.database.url, echo=settings.database.echo)
        reads = make_sessionmaker(engine, read_only=True)
        writes = make_sessionmaker(engine)
        api = settings.api
        key = (
            api.secret_key.get_secret_value()
            if api.secret_key
            else _stored_secret(writes, SIGNING_SECRET)
        )
        return cls(
            settings=settings,
            engine=engine,
            reads=reads,
            writes=writes,
            redis=connect(settings.redis),
            signer=UrlSigner(key.encode("utf-8")),
            streams=OutputStreams(alerts=api.alerts_stream, notifications=api.notifications_stream),
            zone=ZoneInfo(api.timezone),
            areas=AreaCache(reads),
            names=SourceNames(reads),
            partitioner=Partitioner(settings.partitions),
        )

    def close(self) -> None:
        """Release connections."""
        self.redis.close()
        self.engine.dispose()


def _stored_secret(writes: sessionmaker[Session], name: str) -> str:
    """The secret `name` from the database, generated on first use (every process agrees)."""
    with writes.begin() as session:
        row = session.get(ApiSecret, name)
        if row is not None:
            return row.value
    try:
        with writes.begin() as session:
            session.add(ApiSecret(name=name, value=new_token()))
    except IntegrityError:
        pass  # another process created it first
    with writes.begin() as session:
        row = session.get(ApiSecret, name)
        assert row is not None, f"secret {name} was just stored"
        return row.value


def get_context(request: Request) -> AppContext:
    """The process's shared state (a FastAPI dependency)."""
    context: AppContext = request.app.state.context
    return context
