"""Users (admins manage them) and guardians' invite links (admins and staff send them)."""

from datetime import datetime
from typing import Annotated

import segno
from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from alert_api.accounts import AccountError, create_invite, create_user, set_password
from alert_api.params import MAX_ID, Code, RecordId, Text
from alert_api.sessions import revoke_all
from alert_api.viewer import AdminViewer, Context, StaffViewer, Viewer
from records.people import Guardian, Guardianship, Household, Person
from records.users import User, UserRole

router = APIRouter(tags=["users"])


class UserOut(BaseModel):
    """A user."""

    id: int
    login: str
    display_name: str
    role: UserRole
    staff_id: int | None
    staff_code: str | None
    guardian_id: int | None
    active: bool
    created_at: datetime


class UserIn(BaseModel):
    """A new admin, duty officer or grid worker (guardians join by invite)."""

    login: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")]
    display_name: Annotated[Text, Field(max_length=100)] = ""
    password: Annotated[str, Field(min_length=1, max_length=200)]
    role: UserRole
    staff_code: Code | None = Field(
        None, description="The staff record a duty officer or grid worker acts for."
    )


class UserChange(BaseModel):
    """Changes to a user; omitted fields stay."""

    display_name: Annotated[Text, Field(min_length=1, max_length=100)] | None = None
    password: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    active: bool | None = None


class InviteIn(BaseModel):
    """Whom to invite."""

    guardian_id: int = Field(ge=1, le=MAX_ID)


class InviteOut(BaseModel):
    """An invite link: give it to the guardian (it works once, until `expires_at`)."""

    url: str
    qr_svg: str = Field(description="The link as a QR code: an SVG `data:` URI for an `<img>`.")
    expires_at: datetime
    guardian_id: int
    guardian_name: str


def user_out(user: User) -> UserOut:
    """A user as the API shows it (staff loaded)."""
    return UserOut(
        id=user.id,
        login=user.login,
        display_name=user.display_name,
        role=user.role,
        staff_id=user.staff_id,
        staff_code=user.staff.code if user.staff else None,
        guardian_id=user.guardian_id,
        active=user.active,
        created_at=user.created_at,
    )


@router.get("/api/users", response_model=list[UserOut])
def list_users(context: Context, viewer: AdminViewer) -> list[UserOut]:
    """Every user."""
    with context.reads() as session:
        users = session.scalars(select(User).options(selectinload(User.staff)).order_by(User.id))
        return [user_out(u) for u in users]


@router.post("/api/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def post_user(context: Context, viewer: AdminViewer, body: UserIn) -> UserOut:
    """Create an admin, duty officer or grid worker (linked to their staff record)."""
    try:
        with context.writes.begin() as session:
            user = create_user(
                session,
                login=body.login,
                display_name=body.display_name,
                password=body.password,
                role=body.role,
                staff_code=body.staff_code,
            )
            return user_out(user)
    except AccountError as exc:
        raise HTTPException(422, str(exc)) from None


@router.patch("/api/users/{user_id}", response_model=UserOut)
def patch_user(
    context: Context, viewer: AdminViewer, user_id: RecordId, body: UserChange
) -> UserOut:
    """Rename, set a new password (ends their sessions) or (de)activate a user."""
    with context.writes.begin() as session:
        user = session.get(User, user_id)
        if user is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {user_id}")
        if body.active is False and user.id == viewer.user_id:
            raise HTTPException(422, "you cannot disable yourself")
        if body.display_name is not None:
            user.display_name = body.display_name.strip()
        if body.password is not None:
            try:
                set_password(session, user, body.password)
            except AccountError as exc:
                raise HTTPException(422, str(exc)) from None
        if body.active is not None:
            user.active = body.active
            if not body.active:
                revoke_all(session, user.id)
        session.flush()
        session.refresh(user, ["staff"])
        return user_out(user)


def guardian_in_scope(session: Session, viewer: Viewer, guardian_id: int) -> Guardian | None:
    """The guardian, if one of their wards lives in the viewer's areas (admins: any)."""
    guardian = session.get(Guardian, guardian_id)
    if guardian is None or viewer.scope.everything:
        return guardian
    ward_areas = session.scalars(
        select(Household.area_id)
        .join(Person, Person.household_id == Household.id)
        .join(Guardianship, Guardianship.person_id == Person.id)
        .where(Guardianship.guardian_id == guardian_id)
    )
    return guardian if any(viewer.scope.sees_area(a) for a in ward_areas) else None


def base_url(context: Context, request: Request) -> str:
    """Where people reach the API (`api.public_url`, else the request's address)."""
    return context.settings.api.public_url or str(request.base_url).rstrip("/")


@router.post("/api/invites", response_model=InviteOut, status_code=status.HTTP_201_CREATED)
def post_invite(
    context: Context, viewer: StaffViewer, request: Request, body: InviteIn
) -> InviteOut:
    """An invite link for a guardian of a ward in the viewer's areas. Opening it lets the
    guardian set a password and sign in with their phone number; for a guardian who already
    has an account it sets a new password (a lost password's recovery)."""
    with context.writes.begin() as session:
        guardian = guardian_in_scope(session, viewer, body.guardian_id)
        if guardian is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no guardian {body.guardian_id}")
        token, invite = create_invite(
            session, guardian, viewer.user_id, context.settings.api.invite_ttl_s
        )
        url = f"{base_url(context, request)}/join/{token}"
        return InviteOut(
            url=url,
            qr_svg=segno.make(url, error="m").svg_data_uri(scale=4, border=2),
            expires_at=invite.expires_at,
            guardian_id=guardian.id,
            guardian_name=guardian.name,
        )
