"""Escalation ladders: while an alert stays `new`, each step notifies the next recipients.

One Redis timer per alert (member = alert id) fires at its next step; the step reached is kept
on the alert (`escalation_step`), so a timer that fires twice, late, or after a restart does
each step once. Anything but `new` (acknowledged, false alarm…) stops the ladder.
"""

from zoneinfo import ZoneInfo

from records.feed import AlertView, Change
from records.types import AlertStatus
from rules.book import AlertBook
from rules.definitions import Rule, RuleSet
from rules.notifications import Notice


def step_due_ms(alert: AlertView, rule: Rule, step: int) -> int | None:
    """When 0-based ladder `step` is due for `alert` (None: the ladder has no such step)."""
    ladder = rule.alert.escalation
    if step >= len(ladder):
        return None
    return int(alert.created_at.timestamp() * 1000 + ladder[step].after_s * 1000)


def escalate(
    book: AlertBook, alert_id: int, rules: RuleSet, zone: ZoneInfo
) -> tuple[bool, int | None]:
    """Do every step of the alert's ladder that is due by the book's time and not done yet.

    Returns whether a step notified, and when the next step is due (ms) or None when the
    ladder is over: the alert is gone or no longer `new`, or its rule has no (more) steps.
    """
    alert = book.alert(alert_id)
    if alert is None or alert.status is not AlertStatus.NEW:
        return False, None
    rule = rules.by_id(alert.rule_id)
    if rule is None:
        return False, None
    now_ms = book.now.timestamp() * 1000
    step = alert.escalation_step
    while (due := step_due_ms(alert, rule, step)) is not None and due <= now_ms:
        book.notify(Notice.of(alert, step + 1, rule.alert.escalation[step].notify, zone, book.now))
        step += 1
    fired = step > alert.escalation_step
    if fired:
        alert.escalation_step = step
        alert.escalated_at = book.now
        book.changed(alert)
        book.announce(alert, Change.ESCALATED)
    return fired, step_due_ms(alert, rule, step)
