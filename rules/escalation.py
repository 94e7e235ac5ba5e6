"""Escalation ladders: while an alert stays `new`, each step notifies the next recipients.

One Redis timer per alert (member = alert id) fires at its next step; the step reached is kept
on the alert (`escalation_step`), so a timer that fires twice, late, or after a restart does
each step once. A rule may repeat the last step (`repeat_last_s`, `repeat_last_times`) while
nobody acknowledges. Anything but `new` (acknowledged, false alarm…) stops the ladder; an alert
the rules reopen (worse while closed) climbs the reopening rule's ladder again from its first
step.
"""

from zoneinfo import ZoneInfo

from records.feed import Change
from records.types import AlertStatus
from rules.book import AlertBook, AlertState
from rules.definitions import Rule, RuleSet
from rules.notifications import Notice


def step_due_ms(alert: AlertState, rule: Rule, step: int) -> int | None:
    """When 0-based ladder `step` is due for `alert`, counted from its creation or its last
    reopening (None: the ladder has no such step). Steps past the ladder's end are the
    repeats of its last step, `repeat_last_s` apart."""
    spec, ladder = rule.alert, rule.alert.escalation
    repeats = spec.repeat_last_times if spec.repeat_last_s is not None else 0
    if step >= len(ladder) + repeats:
        return None
    start = alert.reopened_at or alert.created_at
    after_s = ladder[min(step, len(ladder) - 1)].after_s
    if step >= len(ladder):
        after_s += (step - len(ladder) + 1) * (spec.repeat_last_s or 0.0)
    return int(start.timestamp() * 1000 + after_s * 1000)


def step_recipients(rule: Rule, step: int) -> list[str]:
    """Who 0-based ladder `step` notifies (a repeat: the last step's recipients)."""
    ladder = rule.alert.escalation
    return list(ladder[min(step, len(ladder) - 1)].notify)


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
        notify = step_recipients(rule, step)
        book.notify(Notice.of(alert, step + 1, notify, zone, book.now, stage=_stage(alert, step)))
        step += 1
    fired = step > alert.escalation_step
    if fired:
        alert.escalation_step = step
        alert.escalated_at = book.now
        book.changed(alert)
        book.announce(alert, Change.ESCALATED)
    return fired, step_due_ms(alert, rule, step)


def _stage(alert: AlertState, step: int) -> str:
    """The notice's stage in its jobs' ids: the step, or after a reopening the step of that
    reopening's ladder (a new alert keeps its reopening's version), so the notifier takes
    its jobs for new ones rather than repeats of the first ladder's."""
    return str(step + 1) if alert.reopened_at is None else f"reopened{alert.version}.{step + 1}"
