"""Health: the API's own liveness (public) and the edge agents and cameras the viewer's sites
run (for the dashboard's health panel)."""

from typing import Any

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from alert_api.context import AppContext
from alert_api.viewer import Context, StaffViewer
from records.people import Site
from shouwang.health import read_health

router = APIRouter(tags=["health"])


class LivenessOut(BaseModel):
    """Whether the API can reach its database and Redis."""

    status: str
    database: bool
    redis: bool


class EdgeOut(BaseModel):
    """An edge agent and its cameras."""

    site: str
    site_name: str = Field(description="The site's display name (its code if it has none).")
    edge: str
    status: str
    alive: bool
    last_seen_age_s: float | None
    fps: float | None
    queue_depth: int | None
    cameras: dict[str, str]
    camera_names: dict[str, str] = Field(
        description="Display names of the cameras, by id (the camera's id where it has none)."
    )


class SystemHealthOut(BaseModel):
    """Edge agents of the viewer's sites; for admins also ingest workers and streams."""

    edges: list[EdgeOut]
    workers: list[dict[str, Any]] | None = None
    streams: list[dict[str, Any]] | None = None
    broker_dropped: float | None = None


@router.get("/api/health", response_model=LivenessOut, responses={503: {"model": LivenessOut}})
def liveness(context: Context) -> LivenessOut | JSONResponse:
    """Liveness for load balancers (no sign-in needed): 503 if the database or Redis is down."""
    try:
        with context.reads() as session:
            session.execute(text("SELECT 1"))
        database = True
    except SQLAlchemyError:
        database = False
    try:
        reachable = bool(context.redis.ping())
    except redis.RedisError:
        reachable = False
    body = LivenessOut(
        status="ok" if database and reachable else "degraded", database=database, redis=reachable
    )
    if body.status == "ok":
        return body
    return JSONResponse(body.model_dump(), status_code=503)


def _age(value: float) -> float | None:
    return None if value == float("inf") else value


def _finite(value: Any) -> Any:
    """`value` with every infinite number (never heard from) replaced by None (JSON has none)."""
    if isinstance(value, float):
        return _age(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _sites_serving(context: AppContext, area_ids: frozenset[int]) -> set[str]:
    """Sites whose area is one of `area_ids` or contains one (a village's site serves its
    grids)."""
    areas = context.areas.all()
    serving = set(area_ids)
    for area_id in area_ids:
        parent = areas[area_id].parent_id if area_id in areas else None
        while parent is not None and parent not in serving:
            serving.add(parent)
            parent = areas[parent].parent_id if parent in areas else None
    with context.reads() as session:
        return set(session.scalars(select(Site.code).where(Site.area_id.in_(sorted(serving)))))


@router.get("/api/system/health", response_model=SystemHealthOut)
def system_health(context: Context, viewer: StaffViewer) -> SystemHealthOut:
    """Edge agents (status, frame rate, queue) and their cameras' states, for the sites in
    the viewer's areas."""
    report = read_health(context.redis)
    sites = None if viewer.scope.everything else _sites_serving(context, viewer.scope.area_ids)
    edges = [
        EdgeOut(
            site=e.site,
            site_name=context.names.site(e.site),
            edge=e.edge,
            status=e.status,
            alive=e.alive,
            last_seen_age_s=_age(e.last_seen_age_s),
            fps=e.fps,
            queue_depth=e.queue_depth,
            cameras=e.cameras,
            camera_names={
                camera: e.camera_names.get(camera) or context.names.source(e.site, camera)
                for camera in e.cameras
            },
        )
        for e in report.edges
        if sites is None or e.site in sites
    ]
    if not viewer.scope.everything:
        return SystemHealthOut(edges=edges)
    full = _finite(report.as_dict())
    return SystemHealthOut(
        edges=edges,
        workers=full["workers"],
        streams=full["streams"],
        broker_dropped=report.broker_dropped,
    )
