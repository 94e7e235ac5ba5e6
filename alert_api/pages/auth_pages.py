"""Pages before and around signing in: sign in, the guardian's invite link, the language
switch, and the home address that sends each role to its page."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alert_api.accounts import AccountError, SignInFailed, accept_invite, open_invite, sign_in
from alert_api.auth import client_address, limiter
from alert_api.i18n import LANG_COOKIE, LANGUAGES
from alert_api.pages.common import (
    form_token,
    form_token_valid,
    render,
    with_form_cookie,
)
from alert_api.ratelimit import Refusal
from alert_api.sessions import COOKIE, IssuedSession, issue
from alert_api.viewer import SESSION_COOKIE, Context, authenticate
from records.users import UserRole

router = APIRouter(include_in_schema=False)

FormText = Annotated[str, Form(max_length=200)]


def safe_next(target: str | None) -> str | None:
    """A redirect target on this site only (a path, never `//host` or a URL)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


def home_of(role: UserRole) -> str:
    """Where a role starts."""
    return "/guardian" if role is UserRole.GUARDIAN else "/dashboard"


def signed_in(context: Context, issued: IssuedSession, target: str, ttl_s: int) -> Response:
    """Redirect to `target` with the new session's cookie."""
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=ttl_s,
        httponly=True,
        samesite="lax",
        secure=context.settings.api.cookie_secure,
    )
    return response


@router.get("/")
def home(request: Request, context: Context) -> RedirectResponse:
    """The signed-in user's page, or the sign-in page."""
    cookie = request.cookies.get(SESSION_COOKIE)
    viewer = authenticate(context, cookie, COOKIE) if cookie else None
    return RedirectResponse(home_of(viewer.role) if viewer else "/login", status_code=303)


def _login_page(
    request: Request, context: Context, next_: str | None, error: str = "", status_code: int = 200
) -> Response:
    token, new = form_token(request)
    response = render(
        request,
        context,
        "login.html",
        status_code=status_code,
        form_token=token,
        next=safe_next(next_) or "",
        error=error,
    )
    return with_form_cookie(response, token, new, context.settings.api.cookie_secure)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, context: Context, next: str | None = None) -> Response:
    """The sign-in form."""
    return _login_page(request, context, next)


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    context: Context,
    login: FormText,
    password: FormText,
    form_token_: Annotated[str, Form(alias="form_token", max_length=100)] = "",
    next_: Annotated[str, Form(alias="next", max_length=500)] = "",
) -> Response:
    """Sign in from the form; sets the session cookie."""
    if not form_token_valid(request, form_token_):
        return _login_page(request, context, next_, "login.csrf", 403)
    outcome = sign_in(
        context,
        limiter(context),
        login,
        password,
        client_address(request),
        kind=COOKIE,
        label=request.headers.get("user-agent", ""),
    )
    if isinstance(outcome, Refusal):
        response = _login_page(request, context, next_, "login.limited", 429)
        response.headers["Retry-After"] = str(outcome.retry_after_s)
        return response
    if isinstance(outcome, SignInFailed):
        return _login_page(request, context, next_, "login.failed", 401)
    viewer = authenticate(context, outcome.token, COOKIE)
    assert viewer is not None, "the session was just issued"
    api = context.settings.api
    ttl = api.guardian_session_ttl_s if viewer.is_guardian else api.session_ttl_s
    return signed_in(context, outcome, safe_next(next_) or home_of(viewer.role), ttl)


def _join_page(
    request: Request, context: Context, token: str, error: str = "", status_code: int = 200
) -> Response:
    with context.reads() as session:
        invite = open_invite(session, token)
        guardian = (invite.guardian.name, invite.guardian.phone) if invite else None
    form, new = form_token(request)
    response = render(
        request,
        context,
        "join.html",
        status_code=status_code if guardian else 404,
        guardian=guardian,
        form_token=form,
        error=error if guardian else "join.invalid",
    )
    return with_form_cookie(response, form, new, context.settings.api.cookie_secure)


@router.get("/join/{token}", response_class=HTMLResponse)
def join_page(request: Request, context: Context, token: str) -> Response:
    """A guardian's invite link: set a password to join (the link is the credential)."""
    return _join_page(request, context, token)


@router.post("/join/{token}", response_class=HTMLResponse)
def join_submit(
    request: Request,
    context: Context,
    token: str,
    password: FormText,
    password2: FormText,
    form_token_: Annotated[str, Form(alias="form_token", max_length=100)] = "",
) -> Response:
    """Use the invite: set the password and sign in on this phone."""
    if not form_token_valid(request, form_token_):
        return _join_page(request, context, token, "login.csrf", 403)
    if password != password2:
        return _join_page(request, context, token, "join.mismatch", 422)
    ttl = context.settings.api.guardian_session_ttl_s
    try:
        with context.writes.begin() as session:
            invite = open_invite(session, token)
            if invite is None:
                return _join_page(request, context, token)
            user = accept_invite(session, invite, password)
            issued = issue(session, user, COOKIE, ttl, request.headers.get("user-agent", ""))
    except AccountError as exc:
        return _join_page(request, context, token, str(exc), 422)
    return signed_in(context, issued, "/guardian", ttl)


@router.get("/lang/{code}")
def switch_language(code: str, next: str | None = None) -> RedirectResponse:
    """Switch the pages' language (`zh` or `en`)."""
    response = RedirectResponse(safe_next(next) or "/", status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response
