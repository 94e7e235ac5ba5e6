"""What every page shares: the templates, the language, the form tokens of pages used before
signing in (double-submit cookie), and rendering with the viewer's context."""

import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from alert_api.context import AppContext
from alert_api.i18n import (
    Language,
    audit_note,
    channel_word,
    chosen_language,
    texts,
    translator,
)
from alert_api.tokens import new_token
from alert_api.viewer import Viewer
from records.lifecycle import ALLOWED, NOTE_REQUIRED

TEMPLATES = Jinja2Templates(directory=Path(__file__).parents[1] / "templates")
FORM_COOKIE = "shouwang_form"
"""Pre-sign-in forms (sign in, join) carry this cookie's value back: login CSRF protection."""
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""Pages are served with these (no inline scripts, nothing from other sites, no framing)."""


def language(request: Request, context: AppContext) -> Language:
    """The page language: the switch's cookie, else the deployment's default."""
    return chosen_language(request.cookies, context.settings.api.default_language)


def form_token(request: Request) -> tuple[str, bool]:
    """The browser's pre-sign-in form token, and whether it is new (must be set as cookie)."""
    current = request.cookies.get(FORM_COOKIE, "")
    return (current, False) if len(current) >= 32 else (new_token(), True)


def form_token_valid(request: Request, sent: str) -> bool:
    """Whether a pre-sign-in form sent back its cookie's token."""
    cookie = request.cookies.get(FORM_COOKIE, "")
    return len(cookie) >= 32 and hmac.compare_digest(cookie.encode(), sent.encode())


def page_config(request: Request, context: AppContext, viewer: Viewer | None, **extra: Any) -> str:
    """JSON the page's script reads (texts, time zone, lifecycle, the viewer and whether they
    may urge cases on)."""
    lang = language(request, context)
    config = {
        "lang": lang,
        "tz": context.settings.api.timezone,
        "texts": texts(lang),
        "allowed": {s.value: sorted(t.value for t in targets) for s, targets in ALLOWED.items()},
        "noteRequired": sorted(s.value for s in NOTE_REQUIRED),
        "role": viewer.role.value if viewer else None,
        "userId": viewer.user_id if viewer else None,
        "canUrge": viewer.can_urge if viewer else False,
        **extra,
    }
    return json.dumps(config, ensure_ascii=False).replace("</", "<\\/")


def render(
    request: Request,
    context: AppContext,
    template: str,
    viewer: Viewer | None = None,
    *,
    status_code: int = 200,
    script_config: dict[str, Any] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render a page in the viewer's language, with security headers."""
    lang = language(request, context)
    zone = context.zone
    t = translator(lang)

    def local(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "audit_note": lambda note: audit_note(t, note),
            "channel_word": lambda channel: channel_word(t, channel),
            "lang": lang,
            "viewer": viewer,
            "csrf_token": viewer.csrf_token if viewer else "",
            "local": local,
            "config_json": page_config(request, context, viewer, **(script_config or {})),
            "path": request.url.path,
            **values,
        },
        status_code=status_code,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def with_form_cookie(response: Response, token: str, new: bool, secure: bool) -> Response:
    """Set the pre-sign-in form cookie if it is new."""
    if new:
        response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict", secure=secure)
    return response
