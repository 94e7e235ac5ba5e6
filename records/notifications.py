"""Notification records: Web Push subscriptions, the VAPID key pair, quiet hours, and the
delivery log of the notification dispatcher (one row per job, one per job × channel × target).

The alert API calls `vapid_public_key`, `save_push_subscription`, `remove_push_subscription`
and the quiet-hours functions; the dispatcher (`notify`) writes jobs and deliveries.
"""

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ForeignKey, Index, String, Text, Time, UniqueConstraint, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.sql import Insert

from records.base import Base, UtcDateTime, str_enum, utcnow
from records.types import Severity


class RecipientType(StrEnum):
    """Who a notification, subscription or quiet-hours setting belongs to."""

    GUARDIAN = "guardian"
    STAFF = "staff"


class DeliveryOutcome(StrEnum):
    """Where one delivery stands."""

    PENDING = "pending"
    """Due at `next_attempt_at` (new, or waiting to be retried)."""
    HELD = "held"
    """Held back by the recipient's quiet hours until `next_attempt_at`."""
    SENT = "sent"
    """Accepted by the push service or the apprise target."""
    FAILED = "failed"
    """Not sent: a permanent error, or every attempt failed; `last_error` says why."""
    GONE = "gone"
    """The push subscription expired (404/410) and was removed."""
    WITHDRAWN = "withdrawn"
    """Not sent: held for quiet hours, and its alert was closed (resolved, followed up,
    archived or a false alarm) before they ended."""


OPEN_OUTCOMES = (DeliveryOutcome.PENDING, DeliveryOutcome.HELD)
"""Outcomes of deliveries still to be attempted."""


class DeliveryReceipt(StrEnum):
    """What the vendor's delivery receipt (回执) says about a `sent` text or call."""

    DELIVERED = "delivered"
    """The text reached the phone (已送达)."""
    UNDELIVERED = "undelivered"
    """The text did not reach the phone (未送达): switched off, out of service, blocked."""
    ANSWERED = "answered"
    """Someone picked up the call (已接听)."""
    UNANSWERED = "unanswered"
    """Nobody picked up (未接听): no answer, busy, switched off, rejected."""


NOT_REACHED = (DeliveryReceipt.UNDELIVERED, DeliveryReceipt.UNANSWERED)
"""Receipts saying the person was not reached: the next channel of the order takes over."""


class DeliveryError(StrEnum):
    """Why a delivery failed (or is being retried), as the notifier classified it: the code
    beside `last_error`'s detail, that the alert page says in words (docs/notifications.md)."""

    NO_CHANNEL = "no_channel"
    """The recipient's channel order has no channel for the alert (never on a delivery: a job
    without any)."""
    INVALID_CHANNEL = "invalid_channel"
    """An entry of the channel order is no channel: unreadable, not a robot or apprise URL."""
    NO_SUBSCRIPTION = "no_subscription"
    """`webpush`, but the person never allowed notifications on the phone page."""
    SUBSCRIPTION_GONE = "subscription_gone"
    """The push subscription expired (404/410) or was removed."""
    PUSH_REFUSED = "push_refused"
    """The push service refused it (another VAPID key, a bad or disallowed subscription)."""
    NO_MOBILE = "no_mobile"
    """`sms` or `voice`, but no mainland mobile number."""
    NOT_SET_UP = "not_set_up"
    """The deployment has no SMS or voice vendor configured."""
    INVALID_NUMBER = "invalid_number"
    """The vendor says the number is not a valid one."""
    NO_BALANCE = "no_balance"
    """The vendor account's balance or package is used up (or the account is in arrears)."""
    DAILY_LIMIT = "daily_limit"
    """The vendor's daily limit for the number or the account is reached."""
    TEMPLATE_REJECTED = "template_rejected"
    """The template or signature is not approved, or the parameters do not fit it."""
    ACCOUNT = "account"
    """The vendor account is misconfigured: keys, application id, permissions."""
    ROBOT_REFUSED = "robot_refused"
    """A group robot refused it: token, key, secret or security setting wrong."""
    THROTTLED = "throttled"
    """Rate-limited (retried; final only once the retries gave up)."""
    UNAVAILABLE = "unavailable"
    """The vendor or push service had trouble or did not answer (retried, as `throttled`)."""
    REFUSED = "refused"
    """Any other refusal: the detail says which."""
    WITHDRAWN = "withdrawn"
    """Not sent: the alert was answered or closed first."""
    INTERNAL = "internal"
    """The notifier's channel raised (a bug; retried, as `throttled`)."""


class PushSubscription(Base):
    """A browser's Web Push subscription (the guardian page on a phone), owned by a recipient."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_owner", "recipient_type", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    """The browser's ECDH public key (base64url, uncompressed P-256 point)."""
    auth: Mapped[str] = mapped_column(String(64))
    """The browser's authentication secret (base64url, 16 bytes)."""
    recipient_type: Mapped[RecipientType] = mapped_column(str_enum(RecipientType))
    recipient_id: Mapped[int]
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def info(self) -> dict[str, Any]:
        """The subscription as pywebpush takes it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class VapidKey(Base):
    """The VAPID key pair of the deployment: a single row (id 1) every process shares."""

    __tablename__ = "vapid_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    """PKCS#8 PEM of the P-256 private key (a secret: it signs the push requests)."""
    public_key: Mapped[str] = mapped_column(String(128))
    """The application server key: base64url of the uncompressed public point."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QuietHours(Base):
    """A recipient's quiet hours (local time; the end is exclusive, end < start runs over
    midnight): non-critical notifications wait until they end, critical ones never do."""

    __tablename__ = "quiet_hours"

    recipient_type: Mapped[RecipientType] = mapped_column(str_enum(RecipientType), primary_key=True)
    recipient_id: Mapped[int] = mapped_column(primary_key=True)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Notification(Base):
    """A notification job as the dispatcher received it (once per `job_id`): what to say to
    whom. Its deliveries are planned in the same transaction."""

    __tablename__ = "notifications"

    job_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    alert_id: Mapped[int] = mapped_column(index=True)
    step: Mapped[int]
    recipient_type: Mapped[RecipientType] = mapped_column(str_enum(RecipientType))
    recipient_id: Mapped[int]
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(Text)
    """Where, as SMS and voice templates say it (NULL: queued before jobs carried it)."""
    lead: Mapped[str | None] = mapped_column(Text)
    """What the body says before the title (派单…, 督办…; NULL as `place`)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    """When the rules engine queued it."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    deliveries: Mapped[list["Delivery"]] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True
    )


class Delivery(Base):
    """One job sent to one target of one channel: a push subscription's endpoint or an
    apprise URL. Unique per (job, channel, target), so retries and re-published jobs never add
    a second row; `target_key` is the SHA-256 of `target` (URLs are too long to index)."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("job_id", "channel", "target_key"),
        Index("ix_notification_deliveries_due", "outcome", "next_attempt_at"),
        Index("ix_notification_deliveries_vendor_id", "vendor_id"),
        Index("ix_notification_deliveries_sent_at", "sent_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("notifications.job_id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    """`webpush`, or the apprise URL's scheme (`dingtalk`, `wecom`, `ntfy`, `mailto`…)."""
    target: Mapped[str] = mapped_column(Text)
    """The push endpoint or the apprise URL (may hold a token: never log it whole)."""
    target_key: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[DeliveryOutcome] = mapped_column(
        str_enum(DeliveryOutcome), default=DeliveryOutcome.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    wait_s: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    """How long after the job this delivery waits: a later step of the channel order, sent
    unless the alert is answered first, or at once when every earlier step failed."""
    last_error: Mapped[str | None] = mapped_column(Text)
    """Why the last attempt failed, in the words of the vendor or the notifier."""
    error_code: Mapped[DeliveryError | None] = mapped_column(str_enum(DeliveryError))
    """`last_error` classified (NULL with no error, and in rows from before migration 0017)."""
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When a pending or held delivery is due; null once it is settled."""
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """A worker sending it holds it until then (another worker takes it over after)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    vendor_id: Mapped[str | None] = mapped_column(String(100))
    """The SMS or voice vendor's id of the accepted message (Aliyun BizId / CallId, Tencent
    Cloud SerialNo / CallId): what its delivery receipt is looked up or matched by."""
    receipt: Mapped[DeliveryReceipt | None] = mapped_column(str_enum(DeliveryReceipt))
    """What the vendor's delivery receipt said (NULL: none yet, or no receipts for it)."""
    receipt_code: Mapped[str | None] = mapped_column(String(64))
    """The vendor's code in the receipt (`DELIVRD`, `200003`…)."""
    receipt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the phone received the text or the call ended, as the vendor says (else when the
    receipt was read)."""
    receipt_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When the notifier last asked the vendor for this delivery's receipt."""

    job: Mapped[Notification] = relationship(back_populates="deliveries")


def target_key(target: str) -> str:
    """The key a delivery target is unique by."""
    return hashlib.sha256(target.encode("utf-8")).hexdigest()


def insert_ignoring_conflicts(session: Session, model: type[Base]) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` for the session's database (SQLite or PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    raise NotImplementedError(f"database {dialect!r} is not supported (use SQLite or PostgreSQL)")


# --- VAPID keys ---------------------------------------------------------------------------

VAPID_KEY_ID = 1


@dataclass(frozen=True, slots=True)
class VapidKeys:
    """The deployment's VAPID key pair."""

    private_key_pem: str
    public_key: str
    """Application server key (base64url), what `PushManager.subscribe` takes."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _new_key_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return pem, _b64url(point)


def vapid_keys(session: Session) -> VapidKeys:
    """The VAPID key pair, created on first use: concurrent first uses (API, notifiers) agree
    on one pair. A call that creates it writes in `session`: commit it (or create the pair
    beforehand in its own transaction with `ensure_vapid_keys`)."""
    row = session.get(VapidKey, VAPID_KEY_ID)
    if row is None:
        pem, public = _new_key_pair()
        session.execute(
            insert_ignoring_conflicts(session, VapidKey).values(
                id=VAPID_KEY_ID, private_key_pem=pem, public_key=public, created_at=utcnow()
            )
        )
        row = session.get(VapidKey, VAPID_KEY_ID, populate_existing=True)
        assert row is not None, "the VAPID key row was just inserted"
    return VapidKeys(private_key_pem=row.private_key_pem, public_key=row.public_key)


def vapid_public_key(session: Session) -> str:
    """The application server key (base64url) browsers subscribe with; see `vapid_keys`."""
    return vapid_keys(session).public_key


def ensure_vapid_keys(sessions: sessionmaker[Session]) -> VapidKeys:
    """Create the VAPID key pair unless it exists, in its own transaction; services call this
    at start so that later requests only read it."""
    with sessions.begin() as session:
        return vapid_keys(session)


# --- push subscriptions -------------------------------------------------------------------


class InvalidSubscription(ValueError):
    """A push subscription the browser sent that cannot be used; the message says why."""


def _subscription_fields(subscription_json: str | bytes | Mapping[str, Any]) -> tuple[str, ...]:
    try:
        data = (
            json.loads(subscription_json)
            if isinstance(subscription_json, str | bytes)
            else subscription_json
        )
    except ValueError as exc:
        raise InvalidSubscription(f"subscription is not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise InvalidSubscription("subscription must be an object (PushSubscription.toJSON())")
    endpoint, keys = data.get("endpoint"), data.get("keys")
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("https", "http"):
        raise InvalidSubscription("subscription.endpoint must be an https URL")
    if len(endpoint) > 2048:
        raise InvalidSubscription("subscription.endpoint is longer than 2048 characters")
    if not isinstance(keys, Mapping):
        raise InvalidSubscription("subscription.keys (p256dh, auth) is missing")
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    for name, value, size in (("p256dh", p256dh, 65), ("auth", auth, 16)):
        try:
            decoded = _b64url_decode(value) if isinstance(value, str) else b""
        except ValueError:
            decoded = b""
        if len(decoded) != size:
            raise InvalidSubscription(f"subscription.keys.{name} must be {size} bytes, base64url")
    assert isinstance(p256dh, str) and isinstance(auth, str)
    return endpoint, p256dh, auth


def save_push_subscription(
    session: Session,
    recipient_type: RecipientType | str,
    recipient_id: int,
    subscription_json: str | bytes | Mapping[str, Any],
    user_agent: str = "",
) -> PushSubscription:
    """Store a browser's subscription (`PushSubscription.toJSON()`) for a guardian or staff
    member; the same endpoint again updates its keys and owner. The caller commits.
    Raises InvalidSubscription (a ValueError) with what is wrong."""
    owner = RecipientType(recipient_type)
    endpoint, p256dh, auth = _subscription_fields(subscription_json)
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        row = PushSubscription(endpoint=endpoint, created_at=utcnow())
        session.add(row)
    row.p256dh, row.auth = p256dh, auth
    row.recipient_type, row.recipient_id = owner, recipient_id
    row.user_agent = user_agent[:500]
    session.flush()
    return row


def remove_push_subscription(session: Session, endpoint: str) -> bool:
    """Forget the subscription with this endpoint (the page unsubscribed, or the push service
    said it is gone). Returns whether there was one. The caller commits."""
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def push_subscriptions(
    session: Session, recipient_type: RecipientType | str, recipient_id: int
) -> list[PushSubscription]:
    """A recipient's push subscriptions, oldest first."""
    return list(
        session.scalars(
            select(PushSubscription)
            .where(
                PushSubscription.recipient_type == RecipientType(recipient_type),
                PushSubscription.recipient_id == recipient_id,
            )
            .order_by(PushSubscription.id)
        )
    )


# --- quiet hours --------------------------------------------------------------------------


def set_quiet_hours(
    session: Session, recipient_type: RecipientType | str, recipient_id: int, start: time, end: time
) -> QuietHours:
    """Set a recipient's quiet hours (local time, `end` exclusive; `end` before `start` runs
    over midnight). The caller commits. Raises ValueError if start equals end."""
    if start == end:
        raise ValueError("quiet hours need a start different from the end")
    key = (RecipientType(recipient_type), recipient_id)
    row = session.get(QuietHours, key)
    if row is None:
        row = QuietHours(recipient_type=key[0], recipient_id=recipient_id)
        session.add(row)
    row.start_time, row.end_time = start.replace(tzinfo=None), end.replace(tzinfo=None)
    session.flush()
    return row


def quiet_hours(
    session: Session, recipient_type: RecipientType | str, recipient_id: int
) -> QuietHours | None:
    """A recipient's quiet hours, if set."""
    return session.get(QuietHours, (RecipientType(recipient_type), recipient_id))


def clear_quiet_hours(
    session: Session, recipient_type: RecipientType | str, recipient_id: int
) -> bool:
    """Remove a recipient's quiet hours. Returns whether there were any. The caller commits."""
    row = quiet_hours(session, recipient_type, recipient_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
