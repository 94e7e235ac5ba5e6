"""Who is asking: the signed-in user behind a request (cookie or bearer token), their scope,
and the checks every protected endpoint runs (authentication, CSRF, role)."""

import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import joinedload

from alert_api.context import AppContext, get_context
from alert_api.scope import Scope, scope_of
from alert_api.sessions import BEARER, COOKIE, find
from records.base import utcnow
from records.users import AuthSession, UserRole

SESSION_COOKIE = "shouwang_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(auto_error=False, description="Token from POST /api/auth/login.")
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="Session of the web pages; unsafe methods also need the X-CSRF-Token header.",
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user of a request."""

    user_id: int
    login: str
    display_name: str
    role: UserRole
    staff_id: int | None
    guardian_id: int | None
    scope: Scope
    session_id: int
    via: str
    """`cookie` or `bearer`."""
    csrf_token: str

    @property
    def is_guardian(self) -> bool:
        """Whether the user is a guardian (sees only their wards, answers with "I'm on it")."""
        return self.role is UserRole.GUARDIAN

    @property
    def can_urge(self) -> bool:
        """Whether the user may urge cases on (督办): supervisors and admins."""
        return self.role in (UserRole.SUPERVISOR, UserRole.ADMIN)


class LoginRequired(Exception):
    """A page was asked for without a valid session (answered with a redirect to /login)."""


def authenticate(context: AppContext, token: str, via: str) -> Viewer | None:
    """The viewer holding `token`, or None if it is unknown, expired or its user inactive."""
    if not token or len(token) > 200:
        return None
    with context.reads() as session:
        row = find(session, token)
        if row is None or row.kind != via:
            return None
        user = row.user
        return Viewer(
            user_id=user.id,
            login=user.login,
            display_name=user.display_name,
            role=user.role,
            staff_id=user.staff_id,
            guardian_id=user.guardian_id,
            scope=scope_of(session, user),
            session_id=row.id,
            via=via,
            csrf_token=row.csrf_token,
        )


def _from_request(
    request: Request,
    context: AppContext,
    bearer: HTTPAuthorizationCredentials | None,
    cookie: str | None,
) -> Viewer | None:
    if bearer is not None:
        return authenticate(context, bearer.credentials, BEARER)
    if cookie:
        viewer = authenticate(context, cookie, COOKIE)
        if viewer is not None and request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), viewer.csrf_token.encode()):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"CSRF check failed: send the page's token in the {CSRF_HEADER} header",
                )
        return viewer
    return None


def current_viewer(
    request: Request,
    context: Annotated[AppContext, Depends(get_context)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Viewer:
    """The signed-in viewer of an API request; 401 without a valid session or token."""
    viewer = _from_request(request, context, bearer, cookie)
    if viewer is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in first: POST /api/auth/login, then send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return viewer


def page_viewer(
    request: Request,
    context: Annotated[AppContext, Depends(get_context)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Viewer:
    """The signed-in viewer of a page; without one, the page redirects to the sign-in page."""
    viewer = authenticate(context, cookie, COOKIE) if cookie else None
    if viewer is None:
        raise LoginRequired()
    return viewer


def require(*roles: UserRole) -> Callable[[Viewer], Viewer]:
    """A dependency admitting only `roles` (403 for the others)."""

    def check(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
        if viewer.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"only for: {allowed}")
        return viewer

    return check


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
StaffViewer = Annotated[
    Viewer,
    Depends(
        require(UserRole.ADMIN, UserRole.DUTY_OFFICER, UserRole.GRID_WORKER, UserRole.SUPERVISOR)
    ),
]
AdminViewer = Annotated[Viewer, Depends(require(UserRole.ADMIN))]
PageViewer = Annotated[Viewer, Depends(page_viewer)]
Context = Annotated[AppContext, Depends(get_context)]


def reload_viewer(context: AppContext, viewer: Viewer) -> Viewer | None:
    """`viewer` with a fresh scope, or None if their session ended or their user was disabled
    (long-lived requests such as the live feed check this now and then)."""
    with context.reads() as session:
        row = session.get(AuthSession, viewer.session_id, options=[joinedload(AuthSession.user)])
        if row is None or row.expires_at <= utcnow() or not row.user.active:
            return None
        return replace(viewer, scope=scope_of(session, row.user))
