"""The FastAPI application: every router, the static files, and the shared context."""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from alert_api import (
    alerts,
    auth,
    devices,
    feed,
    health,
    push,
    statistics,
    users,
    watchlist_files,
    watchlists,
)
from alert_api.context import AppContext
from alert_api.pages import router as pages_router
from alert_api.settings import ApiSettings
from alert_api.viewer import LoginRequired

STATIC_DIR = Path(__file__).parent / "static"

DESCRIPTION = """Alerts of Shouwang (守望): list, detail, lifecycle transitions, statistics,
the live feed, watch lists, users and Web Push subscriptions.

Sign in with `POST /api/auth/login` and send `Authorization: Bearer <token>`; the web pages use
a session cookie instead, and their unsafe requests carry the `X-CSRF-Token` header. Every
endpoint except sign-in and `/api/health` needs a signed-in user, and shows only what the
user's role and areas allow (see docs/api.md)."""


def create_app(settings: ApiSettings | None = None, context: AppContext | None = None) -> FastAPI:
    """The API with its pages; connects to the database and Redis of `settings`."""
    context = context or AppContext.build(settings or ApiSettings.load())
    app = FastAPI(title="Shouwang alert API", version="1", description=DESCRIPTION)
    app.state.context = context
    for module in (
        auth,
        alerts,
        statistics,
        feed,
        watchlists,
        watchlist_files,
        devices,
        users,
        push,
        health,
    ):
        app.include_router(module.router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(LoginRequired)
    def _to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    return app
