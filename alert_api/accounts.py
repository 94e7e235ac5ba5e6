"""Creating and changing users, signing in, and guardians' invitations."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alert_api.context import AppContext
from alert_api.passwords import (
    burn_time,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from alert_api.ratelimit import LoginLimiter, Refusal
from alert_api.sessions import BEARER, IssuedSession, issue, revoke_all
from alert_api.tokens import new_token, token_hash
from records.base import utcnow
from records.people import Guardian, Staff
from records.types import StaffRole
from records.users import Invite, User, UserRole

STAFF_ROLE_OF = {
    UserRole.DUTY_OFFICER: frozenset({StaffRole.DUTY_OFFICER, StaffRole.POLICE}),
    UserRole.GRID_WORKER: frozenset({StaffRole.GRID_WORKER}),
    UserRole.SUPERVISOR: frozenset({StaffRole.SUPERVISOR}),
}
"""Which staff records each staff role may act for."""


class AccountError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


def find_user(session: Session, login: str) -> User | None:
    """The user signing in as `login` (case-insensitive)."""
    return session.scalar(select(User).where(func.lower(User.login) == login.strip().lower()))


def create_user(
    session: Session,
    *,
    login: str,
    display_name: str,
    password: str,
    role: UserRole,
    staff_code: str | None = None,
) -> User:
    """A new admin, duty officer or grid worker (guardians join by invite); the caller commits."""
    login = login.strip()
    if role is UserRole.GUARDIAN:
        raise AccountError("guardians join through an invite link (POST /api/invites)")
    if find_user(session, login) is not None:
        raise AccountError(f"the login {login!r} is taken")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    staff = None
    if staff_code:
        staff = session.scalar(select(Staff).where(Staff.code == staff_code))
        if staff is None:
            raise AccountError(f"no staff record with code {staff_code!r} (import staff first)")
    if role in STAFF_ROLE_OF:
        if staff is None:
            raise AccountError(f"a {role.value} needs staff_code: the staff record they act for")
        if staff.role not in STAFF_ROLE_OF[role]:
            raise AccountError(f"staff {staff.code} is a {staff.role.value}, not a {role.value}")
    user = User(
        login=login,
        display_name=display_name.strip() or (staff.name if staff else login),
        password_hash=hash_password(password),
        role=role,
        staff_id=staff.id if staff else None,
    )
    session.add(user)
    session.flush()
    return user


def set_password(
    session: Session, user: User, password: str, *, keep_session: int | None = None
) -> None:
    """Give `user` a new password and end their other sessions; the caller commits."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    revoke_all(session, user.id, keep=keep_session)


@dataclass(frozen=True, slots=True)
class SignInFailed:
    """Wrong login or password (the same answer for both)."""


def sign_in(
    context: AppContext,
    limiter: LoginLimiter,
    login: str,
    password: str,
    address: str,
    *,
    kind: str,
    label: str = "",
) -> IssuedSession | Refusal | SignInFailed:
    """Check a login and password (rate limited) and start a session of `kind`."""
    refusal = limiter.check(login, address)
    if refusal is not None:
        return refusal
    with context.reads() as session:
        user = find_user(session, login)
    if user is None or not user.active:
        burn_time(password)
        limiter.failed(login, address)
        return SignInFailed()
    if not verify_password(user.password_hash, password):
        limiter.failed(login, address)
        return SignInFailed()
    limiter.succeeded(login)
    api = context.settings.api
    if kind == BEARER:
        ttl = api.token_ttl_s
    else:
        ttl = api.guardian_session_ttl_s if user.role is UserRole.GUARDIAN else api.session_ttl_s
    with context.writes.begin() as session:
        stored = session.get(User, user.id)
        assert stored is not None
        if needs_rehash(stored.password_hash):
            stored.password_hash = hash_password(password)
        return issue(session, stored, kind, ttl, label)


def create_invite(
    session: Session, guardian: Guardian, created_by: int | None, ttl_s: int
) -> tuple[str, Invite]:
    """A one-time invite for `guardian` (its secret token, and the row); the caller commits."""
    token = new_token()
    now = utcnow()
    invite = Invite(
        token_hash=token_hash(token),
        guardian_id=guardian.id,
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    session.add(invite)
    session.flush()
    return token, invite


def open_invite(session: Session, token: str) -> Invite | None:
    """The unused, unexpired invite holding `token`."""
    if not token or len(token) > 200:
        return None
    return session.scalar(
        select(Invite).where(
            Invite.token_hash == token_hash(token),
            Invite.used_at.is_(None),
            Invite.expires_at > utcnow(),
        )
    )


def accept_invite(
    session: Session, invite: Invite, password: str, now: datetime | None = None
) -> User:
    """Use an invite: the guardian's user (created, or given the new password) signs in with
    their phone number. The caller commits."""
    user = guardian_login(session, invite.guardian, password)
    invite.used_at = now or utcnow()
    session.flush()
    return user


def guardian_login(session: Session, guardian: Guardian, password: str) -> User:
    """The guardian's user, signing in with their phone number and `password`: created, or
    given the new password (and active again). The caller commits."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user = session.scalar(select(User).where(User.guardian_id == guardian.id))
    if user is None:
        if find_user(session, guardian.phone) is not None:
            raise AccountError(f"the login {guardian.phone} is taken by another user")
        user = User(
            login=guardian.phone,
            display_name=guardian.name,
            password_hash=hash_password(password),
            role=UserRole.GUARDIAN,
            guardian_id=guardian.id,
        )
        session.add(user)
    else:
        set_password(session, user, password)
        user.active = True
    session.flush()
    return user
