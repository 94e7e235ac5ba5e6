"""Sign-in sessions of web pages (cookie + CSRF token) and bearer tokens of API clients."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from alert_api.tokens import new_token, token_hash
from records.base import utcnow
from records.users import AuthSession, User

COOKIE = "cookie"
BEARER = "bearer"


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new session: the secret token (shown once) and what goes with it."""

    token: str
    csrf_token: str
    expires_at: datetime
    session_id: int


def issue(session: Session, user: User, kind: str, ttl_s: int, label: str = "") -> IssuedSession:
    """Start a session for `user`; the caller commits. Also prunes expired sessions."""
    now = utcnow()
    session.execute(delete(AuthSession).where(AuthSession.expires_at < now))
    token = new_token()
    csrf = new_token() if kind == COOKIE else ""
    row = AuthSession(
        user_id=user.id,
        token_hash=token_hash(token),
        kind=kind,
        csrf_token=csrf,
        label=label[:100],
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    session.add(row)
    session.flush()
    return IssuedSession(token, csrf, row.expires_at, row.id)


def find(session: Session, token: str) -> AuthSession | None:
    """The unexpired session of an active user holding `token`, with the user loaded."""
    row = session.scalar(
        select(AuthSession)
        .options(joinedload(AuthSession.user))
        .where(AuthSession.token_hash == token_hash(token), AuthSession.expires_at > utcnow())
    )
    if row is None or not row.user.active:
        return None
    return row


def revoke(session: Session, session_id: int) -> None:
    """End one session; the caller commits."""
    session.execute(delete(AuthSession).where(AuthSession.id == session_id))


def revoke_all(session: Session, user_id: int, *, keep: int | None = None) -> None:
    """End every session of a user (except `keep`); the caller commits."""
    query = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    session.execute(query)
