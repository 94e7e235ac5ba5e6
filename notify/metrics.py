"""Prometheus counters of one notifier (own registry, so several fit one process)."""

from prometheus_client import CollectorRegistry, Counter


class NotifierMetrics:
    """Counters exported on the notifier's /metrics endpoint."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.jobs = Counter(
            "shouwang_notify_jobs",
            "Notification jobs read: `planned` (new), `duplicate` (planned before), `poison` "
            "(dead-lettered).",
            ["result"],
            registry=r,
        )
        self.sent = Counter(
            "shouwang_notify_sent", "Deliveries accepted by their target.", ["channel"], registry=r
        )
        self.failed = Counter(
            "shouwang_notify_failed",
            "Deliveries given up: a permanent error, no target, or every attempt failed.",
            ["channel"],
            registry=r,
        )
        self.retried = Counter(
            "shouwang_notify_retried",
            "Failed attempts scheduled to be tried again (back-off).",
            ["channel"],
            registry=r,
        )
        self.held = Counter(
            "shouwang_notify_held",
            "Deliveries held back by their recipient's quiet hours.",
            registry=r,
        )
        self.withdrawn = Counter(
            "shouwang_notify_withdrawn",
            "Held deliveries not sent because their alert was closed during the quiet hours.",
            registry=r,
        )
        self.dropped_subscriptions = Counter(
            "shouwang_notify_dropped_subscriptions",
            "Push subscriptions removed because the push service said they are gone (404/410).",
            registry=r,
        )
        self.receipts = Counter(
            "shouwang_notify_receipts",
            "Vendors' delivery receipts recorded: `delivered`, `undelivered` (texts), `answered`, "
            "`unanswered` (calls).",
            ["channel", "receipt"],
            registry=r,
        )
        self.receipts_unmatched = Counter(
            "shouwang_notify_receipts_unmatched",
            "Receipts for no delivery of this deployment (ignored).",
            ["channel"],
            registry=r,
        )
        self.receipt_errors = Counter(
            "shouwang_notify_receipt_errors",
            "Rounds in which a vendor could not be asked for receipts (asked again next round).",
            ["channel"],
            registry=r,
        )
        self.handed_over = Counter(
            "shouwang_notify_handed_over",
            "Waiting steps brought forward because a text was not delivered or a call not "
            "answered.",
            registry=r,
        )
