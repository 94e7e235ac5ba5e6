"""People who sign in to the alert API: users and their roles, sign-in sessions and API
tokens, guardians' invitations, and the API's own secrets."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from records.base import Base, UtcDateTime, str_enum, utcnow
from records.people import Guardian, Staff


class UserRole(StrEnum):
    """What a user may do and see.

    `admin` sees and manages everything; `duty_officer` and `grid_worker` are linked to a staff
    record and see the alerts and watch lists of its area (town or county, or grid) and below;
    `guardian` is linked to a guardian record and sees only alerts about their own wards;
    `supervisor` is linked to a supervisor's staff record, sees as a duty officer does and
    urges cases (督办).
    """

    ADMIN = "admin"
    DUTY_OFFICER = "duty_officer"
    GRID_WORKER = "grid_worker"
    GUARDIAN = "guardian"
    SUPERVISOR = "supervisor"


STAFF_ROLES = frozenset({UserRole.DUTY_OFFICER, UserRole.GRID_WORKER, UserRole.SUPERVISOR})
"""Roles that act for a staff record (and need one)."""


class User(Base):
    """A person who signs in; staff roles point at their staff record, guardians at theirs."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'guardian') = (guardian_id IS NOT NULL)"
            " AND (role NOT IN ('duty_officer', 'grid_worker', 'supervisor')"
            " OR staff_id IS NOT NULL)",
            name="role_link",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    """Sign-in name; a guardian signs in with their phone number."""
    display_name: Mapped[str] = mapped_column(String(100))
    """Shown in the audit trail as the actor."""
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id hash (PHC string)."""
    role: Mapped[UserRole] = mapped_column(str_enum(UserRole))
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), index=True
    )
    guardian_id: Mapped[int | None] = mapped_column(
        ForeignKey("guardians.id", ondelete="CASCADE"), unique=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    staff: Mapped[Staff | None] = relationship()
    guardian: Mapped[Guardian | None] = relationship()


class AuthSession(Base):
    """A signed-in browser (`cookie`, with its CSRF token) or an API client's bearer token.

    Only the SHA-256 of the secret token is stored; it expires at `expires_at`.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    """`cookie` (web pages) or `bearer` (API clients)."""
    csrf_token: Mapped[str] = mapped_column(String(64), default="")
    """What pages send back in `X-CSRF-Token` (cookie sessions only)."""
    label: Mapped[str] = mapped_column(String(100), default="")
    """Who asked for it (the browser's user agent, or the API client's name)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

    user: Mapped[User] = relationship()


class Invite(Base):
    """A one-time link that lets a guardian set a password (and so join, or regain access)."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    guardian_id: Mapped[int] = mapped_column(
        ForeignKey("guardians.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    guardian: Mapped[Guardian] = relationship()


class ApiSecret(Base):
    """A secret the API generates once and every API process shares (e.g. URL signing key)."""

    __tablename__ = "api_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
