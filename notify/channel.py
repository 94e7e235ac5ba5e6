"""The contract between the dispatcher and its channels: a `Message` goes to one target, and the
`Result` says whether it arrived and, if not, whether trying again could help."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from records.notifications import DeliveryError
from records.types import Severity


@dataclass(frozen=True, slots=True)
class Message:
    """What a recipient is told about an alert (one notification job)."""

    job_id: str
    alert_id: int
    step: int
    severity: Severity
    title: str
    body: str
    place: str | None
    """Where ("" if the alert has no place; `None`: the job did not say, `notify.templates`
    reads the body)."""
    lead: str | None
    """What the body says before the title (派单…, 督办…; "" if nothing; `None` as `place`)."""
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Target:
    """Where one delivery goes: a push subscription (endpoint and its keys) or an apprise URL."""

    channel: str
    """`webpush`, or the apprise URL's scheme."""
    address: str
    keys: Mapping[str, str] | None = None
    """`p256dh` and `auth` of a push subscription."""


@dataclass(frozen=True, slots=True)
class Result:
    """How one attempt went. `recoverable` failures are retried with back-off; `gone` means
    the target no longer exists (a push subscription answering 404/410) and is forgotten."""

    ok: bool
    recoverable: bool = False
    error: str = ""
    """What went wrong, in the vendor's or the channel's words."""
    reason: DeliveryError | None = None
    """`error` classified (None when `ok`)."""
    gone: bool = False
    retry_after_s: float | None = None
    """The target asked to wait at least this long (HTTP Retry-After)."""
    vendor_id: str = ""
    """The SMS or voice vendor's id of the accepted message (its receipt is read by it)."""

    @classmethod
    def sent(cls, vendor_id: str = "") -> "Result":
        """Accepted by the target (as `vendor_id`, for an SMS or voice vendor)."""
        return cls(ok=True, vendor_id=vendor_id)

    @classmethod
    def retry(
        cls, error: str, reason: DeliveryError, retry_after_s: float | None = None
    ) -> "Result":
        """Failed, worth trying again later."""
        return cls(
            ok=False, recoverable=True, error=error, reason=reason, retry_after_s=retry_after_s
        )

    @classmethod
    def give_up(cls, error: str, reason: DeliveryError, *, gone: bool = False) -> "Result":
        """Failed for good (trying again would fail the same way)."""
        return cls(ok=False, error=error, reason=reason, gone=gone)


class NotSetUp:
    """A channel the deployment has not configured: every delivery fails, saying where to
    set it up."""

    def __init__(self, what: str, section: str) -> None:
        self.error = f"{what} is not set up: configure `{section}` (docs/notifications.md)"

    def send(self, message: Message, target: Target) -> Result:
        """Fail for good."""
        return Result.give_up(self.error, DeliveryError.NOT_SET_UP)


class Channel(Protocol):
    """A way to reach people: Web Push, or apprise URLs. Implementations are thread-safe."""

    def send(self, message: Message, target: Target) -> Result:
        """Deliver `message` to `target`; a delivery problem is returned, never raised."""
        ...
