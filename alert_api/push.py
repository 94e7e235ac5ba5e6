"""Web Push for the signed-in user's browsers: the VAPID public key to subscribe with,
storing and removing subscriptions, the user's quiet hours and channel order."""

from datetime import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from alert_api.i18n import chosen_language
from alert_api.params import Text
from alert_api.viewer import Context, CurrentViewer, Viewer
from records.channel_order import parse_order
from records.notifications import (
    InvalidSubscription,
    PushSubscription,
    RecipientType,
    clear_quiet_hours,
    quiet_hours,
    remove_push_subscription,
    save_push_subscription,
    set_quiet_hours,
    vapid_public_key,
)
from records.people import Guardian, Staff
from records.refusals import Refusal, message

router = APIRouter(prefix="/api/push", tags=["push"])

Short = Annotated[Text, Field(max_length=200)]


class PublicKeyOut(BaseModel):
    """The application server key for `PushManager.subscribe` (base64url)."""

    public_key: str


class SubscriptionKeys(BaseModel):
    """The browser's keys of a push subscription."""

    p256dh: Short
    auth: Short


class SubscriptionIn(BaseModel):
    """A browser's push subscription, as `PushSubscription.toJSON()` gives it."""

    endpoint: Annotated[Text, Field(max_length=2048)]
    keys: SubscriptionKeys
    expirationTime: float | None = None


class EndpointIn(BaseModel):
    """Which subscription to remove."""

    endpoint: Annotated[Text, Field(max_length=2048)]


class QuietHoursIn(BaseModel):
    """Quiet hours in local time (end exclusive; an end before the start runs overnight).
    Critical alerts are never held back."""

    start: time
    end: time


class QuietHoursOut(BaseModel):
    """The user's quiet hours (null: none)."""

    start: time | None
    end: time | None


class ChannelsIn(BaseModel):
    """The user's channel order: `webpush`, `sms`, `voice`, robot or apprise URLs, each
    optionally after `[60s]` or `[2m critical]` (docs/notifications.md)."""

    channels: Annotated[list[Annotated[Text, Field(max_length=1000)]], Field(max_length=20)]


class ChannelsOut(BaseModel):
    """The user's channel order, as stored."""

    channels: list[str]


def recipient(viewer: Viewer) -> tuple[RecipientType, int]:
    """Whom notifications to this user are addressed to (their guardian or staff record)."""
    if viewer.guardian_id is not None:
        return RecipientType.GUARDIAN, viewer.guardian_id
    if viewer.staff_id is not None:
        return RecipientType.STAFF, viewer.staff_id
    raise HTTPException(
        422,
        "this user has no staff or guardian record to receive notifications for",
    )


@router.get("/key", response_model=PublicKeyOut)
def get_public_key(context: Context, viewer: CurrentViewer) -> PublicKeyOut:
    """The VAPID public key browsers subscribe with."""
    with context.writes.begin() as session:
        return PublicKeyOut(public_key=vapid_public_key(session))


@router.post("/subscriptions", status_code=status.HTTP_204_NO_CONTENT)
def post_subscription(
    context: Context, viewer: CurrentViewer, request: Request, body: SubscriptionIn
) -> None:
    """Store this browser's push subscription for the user's alerts."""
    kind, owner = recipient(viewer)
    try:
        with context.writes.begin() as session:
            save_push_subscription(
                session,
                kind,
                owner,
                body.model_dump(exclude={"expirationTime"}),
                request.headers.get("user-agent", ""),
            )
    except InvalidSubscription as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/subscriptions/remove", status_code=status.HTTP_204_NO_CONTENT)
def remove_subscription(context: Context, viewer: CurrentViewer, body: EndpointIn) -> None:
    """Forget one of the user's subscriptions (the browser unsubscribed)."""
    kind, owner = recipient(viewer)
    with context.writes.begin() as session:
        mine = session.scalar(
            select(PushSubscription.id).where(
                PushSubscription.endpoint == body.endpoint,
                PushSubscription.recipient_type == kind,
                PushSubscription.recipient_id == owner,
            )
        )
        if mine is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such subscription of yours")
        remove_push_subscription(session, body.endpoint)


@router.get("/quiet-hours", response_model=QuietHoursOut)
def get_quiet_hours(context: Context, viewer: CurrentViewer) -> QuietHoursOut:
    """The user's quiet hours."""
    kind, owner = recipient(viewer)
    with context.reads() as session:
        row = quiet_hours(session, kind, owner)
        return QuietHoursOut(
            start=row.start_time if row else None, end=row.end_time if row else None
        )


@router.put("/quiet-hours", response_model=QuietHoursOut)
def put_quiet_hours(context: Context, viewer: CurrentViewer, body: QuietHoursIn) -> QuietHoursOut:
    """Set the user's quiet hours: notifications other than critical wait until they end."""
    kind, owner = recipient(viewer)
    try:
        with context.writes.begin() as session:
            row = set_quiet_hours(session, kind, owner, body.start, body.end)
            return QuietHoursOut(start=row.start_time, end=row.end_time)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.delete("/quiet-hours", status_code=status.HTTP_204_NO_CONTENT)
def delete_quiet_hours(context: Context, viewer: CurrentViewer) -> None:
    """Remove the user's quiet hours."""
    kind, owner = recipient(viewer)
    with context.writes.begin() as session:
        clear_quiet_hours(session, kind, owner)


def _owner(session: Session, viewer: Viewer) -> Guardian | Staff:
    kind, owner = recipient(viewer)
    row: Guardian | Staff | None = (
        session.get(Guardian, owner)
        if kind is RecipientType.GUARDIAN
        else session.get(Staff, owner)
    )
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind.value} record {owner}")
    return row


@router.get("/channels", response_model=ChannelsOut)
def get_channels(context: Context, viewer: CurrentViewer) -> ChannelsOut:
    """The user's channel order."""
    with context.reads() as session:
        return ChannelsOut(channels=list(_owner(session, viewer).channels))


@router.put("/channels", response_model=ChannelsOut)
def put_channels(
    context: Context, viewer: CurrentViewer, body: ChannelsIn, request: Request
) -> ChannelsOut:
    """Set the user's channel order (used for the alerts raised from now on); a wrong entry is
    refused in the viewer's language."""
    entries = [entry.strip() for entry in body.channels if entry.strip()]
    try:
        parse_order(entries)
    except Refusal as exc:
        language = chosen_language(request.cookies, context.settings.api.default_language)
        raise HTTPException(422, message(exc.key, exc.params, language)) from None
    with context.writes.begin() as session:
        row = _owner(session, viewer)
        row.channels = entries
        return ChannelsOut(channels=entries)
