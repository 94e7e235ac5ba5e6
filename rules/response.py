"""The response circle after an alert is raised, beside its escalation ladder: a guardian's
"我来处理" (家属已响应) is told to the others already notified, and the ladder runs on until
staff acknowledge; when nobody is on site (已到场) in time, the arrival recipients are told.

One Redis timer per alert (`records.timers.lifecycle_timers`, member = alert id), due at the
earliest deadline pending and made due by the API when a person acts. What was sent is marked
on the alert (`notices_through`, `arrival_missed_at`), so a timer that fires twice, late, or
after a restart sends each once.
"""

from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from records.alerts import AlertTransition
from records.feed import ARRIVAL_STAGE, Change
from records.types import OPEN_STATUSES, AuditAction
from records.users import User
from rules.book import AlertBook, AlertState
from rules.definitions import Rule, RuleSet
from rules.notifications import Notice
from rules.sql import table

TRANSITIONS = table(AlertTransition)
USERS = table(User)
NOTICE_ACTIONS = (AuditAction.FAMILY_RESPONSE.value,)
SELECT_ACTIONS = (
    select(
        TRANSITIONS.c.id,
        TRANSITIONS.c.action,
        TRANSITIONS.c.actor,
        USERS.c.guardian_id,
    )
    .outerjoin(USERS, USERS.c.id == TRANSITIONS.c.actor_id)
    .where(
        TRANSITIONS.c.alert_id == bindparam("alert_id"),
        TRANSITIONS.c.id > bindparam("after"),
        TRANSITIONS.c.action.in_(NOTICE_ACTIONS),
    )
    .order_by(TRANSITIONS.c.id)
)


def notified_so_far(rule: Rule, alert: AlertState) -> list[str]:
    """The recipient specs told about the alert so far: its first ones and the steps done."""
    specs = list(rule.alert.notify)
    for step in rule.alert.escalation[: alert.escalation_step]:
        specs += step.notify
    return list(dict.fromkeys(specs))


def arrival_due_ms(alert: AlertState, rule: Rule, rules: RuleSet) -> int | None:
    """When nobody on site is late (ms), while that is still to tell: the alert is open,
    nobody has arrived and the arrival recipients were not told yet (None otherwise)."""
    within = rules.response.arrival(rule.alert, alert.severity)
    if (
        within is None
        or alert.status not in OPEN_STATUSES
        or alert.arrived_at is not None
        or alert.arrival_missed_at is not None
    ):
        return None
    return int(alert.created_at.timestamp() * 1000 + within * 1000)


def lifecycle_due_ms(alert: AlertState, rule: Rule, rules: RuleSet) -> int | None:
    """When the alert's lifecycle timer is next due (None: nothing pending)."""
    return arrival_due_ms(alert, rule, rules)


def _missed_arrival(
    book: AlertBook, alert: AlertState, rule: Rule, rules: RuleSet, zone: ZoneInfo
) -> bool:
    """Tell the arrival recipients if nobody is on site by the deadline; whether it did."""
    due = arrival_due_ms(alert, rule, rules)
    if due is None or due > book.now.timestamp() * 1000:
        return False
    minutes = (due - alert.created_at.timestamp() * 1000) / 60000
    notice = Notice.of(
        alert,
        alert.escalation_step,
        rules.response.arrival_recipients(rule.alert),
        zone,
        book.now,
        stage=ARRIVAL_STAGE,
        lead=f"{minutes:g}分钟内无人到场",
    )
    book.notify(notice)
    alert.arrival_missed_at = book.now
    book.changed(alert)
    book.announce(alert, Change.ARRIVAL_MISSED)
    return True


def respond(
    book: AlertBook, alert_id: int, rules: RuleSet, zone: ZoneInfo
) -> tuple[bool, int | None]:
    """Send the notices of the alert's audit rows not handled yet (family responses, to those
    notified so far but the guardian who answered) while it is open, and tell the arrival
    recipients when nobody is on site in time.

    Returns whether a notice went out, and when the timer is next due (ms; None: not again).
    """
    alert = book.alert(alert_id)
    if alert is None:
        return False, None
    rule = rules.by_id(alert.rule_id)
    sent = _family_notices(book, alert, rule, zone)
    if rule is None:
        return sent, None
    sent = _missed_arrival(book, alert, rule, rules, zone) or sent
    return sent, lifecycle_due_ms(alert, rule, rules)


def _family_notices(book: AlertBook, alert: AlertState, rule: Rule | None, zone: ZoneInfo) -> bool:
    """Send the notices of the family responses not handled yet; whether one went out."""
    rows = book.session.execute(
        SELECT_ACTIONS, {"alert_id": alert.id, "after": alert.notices_through}
    ).all()
    sent = False
    for row in rows:
        if rule is not None and alert.status in OPEN_STATUSES:
            skip = frozenset({("guardian", row.guardian_id)}) if row.guardian_id else frozenset()
            notice = Notice.of(
                alert,
                alert.escalation_step,
                notified_so_far(rule, alert),
                zone,
                book.now,
                stage=f"family{row.id}",
                lead=f"家属已响应：{row.actor}",
                skip=skip,
            )
            book.notify(notice)
            sent = True
        alert.notices_through = row.id
    if rows:
        book.changed(alert)
    return sent
