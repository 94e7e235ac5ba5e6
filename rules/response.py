"""The response circle after an alert is raised, beside its escalation ladder: a guardian's
"我来处理" (家属已响应) is told to the others already notified, and the ladder runs on until
staff acknowledge.

One Redis timer per alert (`records.timers.lifecycle_timers`, member = alert id), made due by
the API when a person acts. The audit rows whose notices were sent are marked on the alert
(`notices_through`), so a timer that fires twice, late, or after a restart sends each once.
"""

from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from records.alerts import AlertTransition
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


def respond(
    book: AlertBook, alert_id: int, rules: RuleSet, zone: ZoneInfo
) -> tuple[bool, int | None]:
    """Send the notices of the alert's audit rows not handled yet (family responses, to those
    notified so far but the guardian who answered) while it is open.

    Returns whether a notice went out, and when the timer is next due (ms; None: not again).
    """
    alert = book.alert(alert_id)
    if alert is None:
        return False, None
    rule = rules.by_id(alert.rule_id)
    rows = book.session.execute(
        SELECT_ACTIONS, {"alert_id": alert_id, "after": alert.notices_through}
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
    return sent, None
