"""The phone page (guardians, and staff on the move): their alerts with snapshots and the
one-tap "I'm on it", installable (manifest, service worker, icons) and subscribed to Web Push."""

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from alert_api.contacts import staff_contacts
from alert_api.i18n import translator
from alert_api.pages.common import language, render
from alert_api.viewer import Context, PageViewer
from records.people import Person

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parents[1] / "static"
SERVICE_WORKER = STATIC / "sw.js"
ICONS = STATIC / "icons"
"""The app icon (an eye in a rounded square) as PNG files, 192 and 512 pixels."""


@router.get("/guardian", response_class=HTMLResponse)
def guardian_page(request: Request, context: Context, viewer: PageViewer) -> Response:
    """The phone page: the viewer's alerts (a guardian's: about their wards) and whom to call
    (their wards' grid worker and duty office, 120)."""
    with context.reads() as session:
        wards = list(
            session.scalars(
                select(Person)
                .options(selectinload(Person.household))
                .where(Person.id.in_(sorted(viewer.scope.person_ids)))
                .order_by(Person.code)
            )
        )
        calls = staff_contacts(session, {w.household.area_id for w in wards})
    return render(request, context, "guardian.html", viewer, wards=wards, calls=calls)


@router.get("/manifest.webmanifest")
def manifest(request: Request, context: Context) -> JSONResponse:
    """The web app manifest: the phone page installs like an app."""
    t = translator(language(request, context))
    body = {
        "name": t("app_long"),
        "short_name": t("app"),
        "start_url": "/guardian",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0d6e6e",
        "lang": "zh-CN" if language(request, context) == "zh" else "en",
        "icons": [
            {"src": f"/icons/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png"}
            for size in (192, 512)
        ],
    }
    return JSONResponse(body, media_type="application/manifest+json")


@router.get("/sw.js")
def service_worker() -> FileResponse:
    """The service worker (at the root, so it controls every page): shows push notifications."""
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/icons/icon-{size}.png")
def icon(size: Literal["192", "512"]) -> FileResponse:
    """The app icon."""
    return FileResponse(
        ICONS / f"icon-{size}.png",
        media_type="image/png",
        headers={"Cache-Control": "max-age=86400"},
    )
