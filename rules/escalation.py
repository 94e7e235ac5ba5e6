"""Escalation ladders: while an alert stays `new`, each step notifies the next recipients.

One Redis timer per alert (member = alert id) fires at its next step; the step reached is kept
on the alert (`escalation_step`), so a timer that fires twice, late, or after a restart does
each step once. Anything but `new` (acknowledged, false alarm…) stops the ladder.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from records.alerts import Alert
from records.feed import AlertChange, Change
from records.outbox import add_change
from records.timers import TimerSet
from records.types import AlertStatus
from rules.definitions import Rule, RuleSet
from rules.notifications import queue_jobs
from rules.recipients import Directory


def step_due_ms(alert: Alert, rule: Rule, step: int) -> int | None:
    """When 0-based ladder `step` is due for `alert` (None: the ladder has no such step)."""
    ladder = rule.alert.escalation
    if step >= len(ladder):
        return None
    return int(alert.created_at.timestamp() * 1000 + ladder[step].after_s * 1000)


def start_ladder(timers: TimerSet, alert: Alert, rule: Rule) -> None:
    """Set the timer for the first step of a new alert (before its transaction commits: an
    alert that never commits leaves a timer that finds nothing and is dropped)."""
    due = step_due_ms(alert, rule, 0)
    if due is not None:
        timers.schedule(str(alert.id), due)


def escalate(
    session: Session,
    directory: Directory,
    alert_id: int,
    rules: RuleSet,
    now: datetime,
    zone: ZoneInfo,
) -> tuple[bool, int | None]:
    """Do every step of the alert's ladder that is due by `now` and not done yet.

    Returns whether a step notified, and when the next step is due (ms) or None when the
    ladder is over: the alert is gone or no longer `new`, or its rule has no (more) steps.
    """
    alert = session.get(Alert, alert_id, with_for_update=True, populate_existing=True)
    if alert is None or alert.status is not AlertStatus.NEW:
        return False, None
    rule = rules.by_id(alert.rule_id)
    if rule is None:
        return False, None
    now_ms = now.timestamp() * 1000
    step = alert.escalation_step
    fired = False
    while (due := step_due_ms(alert, rule, step)) is not None and due <= now_ms:
        specs = rule.alert.escalation[step].notify
        queue_jobs(session, directory, alert, step + 1, specs, zone, now)
        step += 1
        fired = True
    if fired:
        alert.escalation_step = step
        alert.escalated_at = now
        alert.updated_at = now
        session.flush()
        add_change(session, AlertChange.of(alert, Change.ESCALATED, now))
    return fired, step_due_ms(alert, rule, step)
