"""Delivery receipts (回执) in the delivery log: what a vendor reader returns, the `sent` texts
and calls still waiting for one (claimed for a lookup, so workers do not ask twice), and
recording what the vendor said on the delivery rows."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from records.notifications import Delivery, DeliveryOutcome, DeliveryReceipt, Notification


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a vendor's receipt says about the message it accepted as `vendor_id`."""

    vendor_id: str
    receipt: DeliveryReceipt
    code: str
    """The vendor's code (`DELIVERED`, `DELIVRD`, `200003`…)."""
    at: datetime | None
    """When the phone received the text or the call ended (None: the vendor did not say)."""


@dataclass(frozen=True, slots=True)
class Awaiting:
    """A `sent` text or call whose receipt is looked up."""

    delivery_id: int
    vendor_id: str
    address: str
    """The mobile number."""
    sent_at: datetime


class ReceiptError(Exception):
    """The vendor could not be asked (network, keys, throttled, its own trouble); the
    deliveries keep waiting and are asked about again later."""


class UnreadableReceipt(ValueError):
    """The vendor's answer about one message could not be read; the message says what was
    wrong."""


class LookUp(Protocol):
    """A vendor that answers about one message at a time (Aliyun), as often as asked."""

    def look_up(self, awaiting: Awaiting) -> Receipt | None:
        """The message's receipt, None while the vendor has none. Raises `ReceiptError` or
        `UnreadableReceipt`."""
        ...


class Pull(Protocol):
    """A vendor that hands out the receipts of the whole account, each only once (Tencent
    Cloud's PullSmsSendStatus)."""

    def pull(self) -> list[Receipt]:
        """The receipts not pulled before; entries that cannot be read are logged and left
        out. Raises `ReceiptError` (then nothing was handed out)."""
        ...


def claim_awaiting(
    session: Session,
    channel: str,
    now: datetime,
    window_s: float,
    interval_s: float,
    limit: int,
) -> list[Awaiting]:
    """Up to `limit` deliveries of `channel` sent within `window_s` that have no receipt and
    were not asked about in the last `interval_s`, longest unasked first; they are marked as
    asked now, so other workers skip them."""
    rows = session.scalars(
        select(Delivery)
        .where(
            Delivery.channel == channel,
            Delivery.outcome == DeliveryOutcome.SENT,
            Delivery.receipt.is_(None),
            Delivery.vendor_id.is_not(None),
            Delivery.sent_at >= now - timedelta(seconds=window_s),
            or_(
                Delivery.receipt_checked_at.is_(None),
                Delivery.receipt_checked_at <= now - timedelta(seconds=interval_s),
            ),
        )
        .order_by(Delivery.receipt_checked_at.nulls_first(), Delivery.sent_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.receipt_checked_at = now
    return [
        Awaiting(row.id, row.vendor_id, row.target, row.sent_at)
        for row in rows
        if row.vendor_id is not None and row.sent_at is not None
    ]


@dataclass(frozen=True, slots=True)
class Recorded:
    """A receipt written on its delivery."""

    delivery_id: int
    job_id: str
    alert_id: int
    receipt: Receipt


def record_receipts(
    session: Session, channel: str, receipts: Sequence[Receipt], now: datetime
) -> tuple[list[Recorded], list[Receipt]]:
    """Write each receipt on the `channel` delivery the vendor accepted as its `vendor_id`;
    returns those recorded and those matching no delivery. A delivery that has a receipt
    keeps it (a vendor may report twice)."""
    ids = sorted({r.vendor_id for r in receipts})
    rows = {
        row.vendor_id: (row, alert_id)
        for row, alert_id in session.execute(
            select(Delivery, Notification.alert_id)
            .join(Notification, Notification.job_id == Delivery.job_id)
            .where(Delivery.channel == channel, Delivery.vendor_id.in_(ids))
            .order_by(Delivery.id)
            .with_for_update(of=Delivery)
        )
    }
    recorded: list[Recorded] = []
    unknown: list[Receipt] = []
    for receipt in receipts:
        if receipt.vendor_id not in rows:
            unknown.append(receipt)
            continue
        row, alert_id = rows[receipt.vendor_id]
        if row.receipt is not None:
            continue
        row.receipt, row.receipt_code = receipt.receipt, receipt.code[:64]
        row.receipt_at, row.updated_at = receipt.at or now, now
        recorded.append(Recorded(row.id, row.job_id, alert_id, receipt))
    return recorded, unknown
