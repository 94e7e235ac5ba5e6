"""Signing in and out: bearer tokens for API clients, the current user, password changes."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from alert_api.accounts import AccountError, SignInFailed, set_password, sign_in
from alert_api.context import AppContext
from alert_api.params import Text
from alert_api.passwords import verify_password
from alert_api.ratelimit import LoginLimiter, Refusal
from alert_api.sessions import BEARER, revoke
from alert_api.viewer import SESSION_COOKIE, Context, CurrentViewer, Viewer, authenticate
from records.users import User, UserRole

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    """Credentials of a user."""

    login: Annotated[Text, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    label: Annotated[Text, Field(max_length=100, description="Name of the client.")] = ""


class ScopeOut(BaseModel):
    """What the user sees: everything, the alerts of some areas, or of some persons."""

    everything: bool
    area_ids: list[int]
    person_ids: list[int]


class MeOut(BaseModel):
    """The signed-in user."""

    id: int
    login: str
    display_name: str
    role: UserRole
    staff_id: int | None
    guardian_id: int | None
    scope: ScopeOut


class TokenOut(BaseModel):
    """A bearer token: send `Authorization: Bearer <token>`."""

    token: str
    token_type: str = "bearer"
    expires_at: datetime
    user: MeOut


class PasswordIn(BaseModel):
    """A password change."""

    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Annotated[str, Field(min_length=1, max_length=200)]


class Message(BaseModel):
    """A refusal."""

    detail: str


def limiter(context: AppContext) -> LoginLimiter:
    """The sign-in rate limiter."""
    api = context.settings.api
    return LoginLimiter(
        context.redis,
        api.key_prefix,
        max_per_login=api.login_max_failures,
        max_per_address=api.login_ip_max_failures,
        window_s=api.login_window_s,
    )


def client_address(request: Request) -> str:
    """The client's address (behind a proxy: run uvicorn with --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


def refused(refusal: Refusal) -> JSONResponse:
    """HTTP 429 for too many failed sign-ins."""
    return JSONResponse(
        {"detail": f"too many failed sign-ins; try again in {refusal.retry_after_s} s"},
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(refusal.retry_after_s)},
    )


def me_of(viewer: Viewer) -> MeOut:
    """The viewer as `MeOut`."""
    return MeOut(
        id=viewer.user_id,
        login=viewer.login,
        display_name=viewer.display_name,
        role=viewer.role,
        staff_id=viewer.staff_id,
        guardian_id=viewer.guardian_id,
        scope=ScopeOut(
            everything=viewer.scope.everything,
            area_ids=sorted(viewer.scope.area_ids),
            person_ids=sorted(viewer.scope.person_ids),
        ),
    )


@router.post(
    "/login",
    response_model=TokenOut,
    responses={401: {"model": Message}, 429: {"model": Message}},
)
def login(context: Context, request: Request, body: LoginIn) -> TokenOut | JSONResponse:
    """Sign in with login and password; returns a bearer token. Failed attempts are limited
    per login name and per client address (HTTP 429 with Retry-After)."""
    outcome = sign_in(
        context,
        limiter(context),
        body.login,
        body.password,
        client_address(request),
        kind=BEARER,
        label=body.label or request.headers.get("user-agent", ""),
    )
    if isinstance(outcome, Refusal):
        return refused(outcome)
    if isinstance(outcome, SignInFailed):
        return JSONResponse({"detail": "wrong login or password"}, status_code=401)
    viewer = authenticate(context, outcome.token, BEARER)
    assert viewer is not None, "the session was just issued"
    return TokenOut(token=outcome.token, expires_at=outcome.expires_at, user=me_of(viewer))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(context: Context, viewer: CurrentViewer, response: Response) -> None:
    """End the current session or token (and forget the page's cookie)."""
    response.delete_cookie(SESSION_COOKIE)
    with context.writes.begin() as session:
        revoke(session, viewer.session_id)


@router.get("/me", response_model=MeOut)
def me(viewer: CurrentViewer) -> MeOut:
    """The signed-in user and what they may see."""
    return me_of(viewer)


@router.post(
    "/password", status_code=status.HTTP_204_NO_CONTENT, responses={422: {"model": Message}}
)
def change_password(context: Context, viewer: CurrentViewer, body: PasswordIn) -> None:
    """Change one's own password; every other session of the user ends."""
    with context.writes.begin() as session:
        user = session.get(User, viewer.user_id)
        assert user is not None
        if not verify_password(user.password_hash, body.current_password):
            raise HTTPException(422, "current password is wrong")
        try:
            set_password(session, user, body.new_password, keep_session=viewer.session_id)
        except AccountError as exc:
            raise HTTPException(422, str(exc)) from None
