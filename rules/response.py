"""The response circle after an alert is raised, beside its escalation ladder: a guardian's
"我来处理" (家属已响应) is told to the others already notified, and the ladder runs on until
staff acknowledge; when nobody is on site (已到场) in time, the arrival recipients are told; a
dispatched case gets a due time, its assignee is told (派单) and, past it, the supervisors
(督办); a supervisor's urge is told to the staff on the case; an acknowledged alert still
unresolved is notified again at intervals.

One Redis timer per alert (`records.timers.lifecycle_timers`, member = alert id), due at the
earliest deadline pending and made due by the API when a person acts. What was sent is marked
on the alert (`notices_through`, `arrival_missed_at`, `overdue_at`, `reminders`), so a timer
that fires twice, late, or after a restart sends each once.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, or_, select

from records.alerts import AlertTransition
from records.feed import ARRIVAL_STAGE, DISPATCH_STAGE, Change
from records.types import OPEN_STATUSES, AlertStatus, AuditAction
from records.users import User
from rules.book import AlertBook, AlertState
from rules.definitions import Rule, RuleSet
from rules.notifications import Notice
from rules.sql import table

TRANSITIONS = table(AlertTransition)
USERS = table(User)
NOTICE_ACTIONS = (AuditAction.FAMILY_RESPONSE.value, AuditAction.URGE.value)
DISPATCHES = and_(
    TRANSITIONS.c.action == AuditAction.STATUS.value,
    TRANSITIONS.c.to_status == AlertStatus.DISPATCHED.value,
    TRANSITIONS.c.assignee_id.is_not(None),
)
"""Audit rows of dispatches that name whom to tell."""
SELECT_ACTIONS = (
    select(
        TRANSITIONS.c.id,
        TRANSITIONS.c.action,
        TRANSITIONS.c.actor,
        TRANSITIONS.c.note,
        TRANSITIONS.c.assignee_id,
        USERS.c.guardian_id,
    )
    .outerjoin(USERS, USERS.c.id == TRANSITIONS.c.actor_id)
    .where(
        TRANSITIONS.c.alert_id == bindparam("alert_id"),
        TRANSITIONS.c.id > bindparam("after"),
        or_(TRANSITIONS.c.action.in_(NOTICE_ACTIONS), DISPATCHES),
    )
    .order_by(TRANSITIONS.c.id)
)
UNRESOLVED = frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.DISPATCHED})


def notified_so_far(rule: Rule, alert: AlertState) -> list[str]:
    """The recipient specs told about the alert so far: its first ones and the steps done."""
    specs = list(rule.alert.notify)
    for step in rule.alert.escalation[: alert.escalation_step]:
        specs += step.notify
    return list(dict.fromkeys(specs))


def staff_so_far(rule: Rule, alert: AlertState) -> list[str]:
    """The staff specs told about the alert so far (no guardians)."""
    return [spec for spec in notified_so_far(rule, alert) if spec != "guardians"]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def arrival_due_ms(alert: AlertState, rule: Rule, rules: RuleSet) -> int | None:
    """When nobody on site is late (ms, counted from the alert's creation or last reopening),
    while that is still to tell: the alert is open, nobody has arrived and the arrival
    recipients were not told yet (None otherwise)."""
    within = rules.response.arrival(rule.alert, alert.severity)
    if (
        within is None
        or alert.status not in OPEN_STATUSES
        or alert.arrived_at is not None
        or alert.arrival_missed_at is not None
    ):
        return None
    return _ms(alert.reopened_at or alert.created_at) + int(within * 1000)


def overdue_due_ms(alert: AlertState, rules: RuleSet) -> int | None:
    """When a dispatched case is to be looked at: at once while it has no due time yet, at
    its due time until the supervisors were told (None otherwise)."""
    if alert.status is not AlertStatus.DISPATCHED or alert.overdue_at is not None:
        return None
    if alert.due_at is None:
        return 0 if alert.severity in rules.response.due_s else None
    return _ms(alert.due_at)


def reminder_due_ms(alert: AlertState, rules: RuleSet) -> int | None:
    """When an acknowledged, unresolved alert is next notified again (None: not)."""
    every = rules.response.remind_s.get(alert.severity)
    if every is None or alert.status not in UNRESOLVED or alert.acknowledged_at is None:
        return None
    return _ms(alert.acknowledged_at) + int(every * 1000) * (alert.reminders + 1)


def lifecycle_due_ms(alert: AlertState, rule: Rule, rules: RuleSet) -> int | None:
    """When the alert's lifecycle timer is next due (None: nothing pending)."""
    dues = (
        arrival_due_ms(alert, rule, rules),
        overdue_due_ms(alert, rules),
        reminder_due_ms(alert, rules),
    )
    return min((due for due in dues if due is not None), default=None)


def respond(
    book: AlertBook, alert_id: int, rules: RuleSet, zone: ZoneInfo
) -> tuple[bool, int | None]:
    """Do what the alert's response circle has due: a dispatched case's due time, the
    notices of audit rows not handled yet (family responses, urges, the latest dispatch),
    nobody on site in time, the due time's passing, the next reminder.

    Returns whether a notice went out, and when the timer is next due (ms; None: not again).
    """
    alert = book.alert(alert_id)
    if alert is None:
        return False, None
    rule = rules.by_id(alert.rule_id)
    circle = Circle(book, alert, rule, rules, zone) if rule is not None else None
    if circle is not None:
        circle.set_due()  # before the dispatch notice, which says it
    sent = _action_notices(book, alert, rule, zone)
    if rule is None or circle is None:
        return sent, None
    sent = circle.missed_arrival() or sent
    sent = circle.overdue() or sent
    sent = circle.remind() or sent
    return sent, lifecycle_due_ms(alert, rule, rules)


def dispatch_lead(alert: AlertState, zone: ZoneInfo, now: datetime) -> str:
    """What a dispatch notice says first: 派单 and by when to be on it (the due time, with
    the date unless it is today)."""
    if alert.due_at is None:
        return "派单：请尽快到场处置"
    due = alert.due_at.astimezone(zone)
    when = f"{due:%H:%M}" if due.date() == now.astimezone(zone).date() else f"{due:%m月%d日 %H:%M}"
    return f"派单：请于{when}前到场处置"


def _dispatch_notice(
    book: AlertBook, alert: AlertState, row_id: int, assignee_id: int, zone: ZoneInfo
) -> None:
    """Tell a dispatch's assignee (stage `dispatch<row>`; an inactive one is told nothing)."""
    notice = Notice.of(
        alert,
        alert.escalation_step,
        [],
        zone,
        book.now,
        stage=f"{DISPATCH_STAGE}{row_id}",
        lead=dispatch_lead(alert, zone, book.now),
        staff_ids=(assignee_id,),
    )
    book.notify(notice)


def _action_notices(book: AlertBook, alert: AlertState, rule: Rule | None, zone: ZoneInfo) -> bool:
    """Send the notices of the family responses, urges and dispatches not handled yet: a
    family response to those notified so far but the guardian who answered, an urge to the
    staff on the case, the latest dispatch of a case still dispatched to its assignee (an
    earlier one re-dispatched meanwhile tells nobody). Whether one went out."""
    rows = book.session.execute(
        SELECT_ACTIONS, {"alert_id": alert.id, "after": alert.notices_through}
    ).all()
    latest_dispatch = max((row.id for row in rows if row.assignee_id is not None), default=None)
    sent = False
    for row in rows:
        if row.assignee_id is not None:
            if row.id == latest_dispatch and alert.status is AlertStatus.DISPATCHED:
                _dispatch_notice(book, alert, row.id, row.assignee_id, zone)
                sent = True
        elif rule is not None and alert.status in OPEN_STATUSES:
            skip: frozenset[tuple[str, int]] = frozenset()
            if row.action == AuditAction.URGE:
                specs, lead, stage = staff_so_far(rule, alert), f"督办：{row.note}", f"urge{row.id}"
            else:
                specs, lead, stage = (
                    notified_so_far(rule, alert),
                    f"家属已响应：{row.actor}",
                    f"family{row.id}",
                )
                if row.guardian_id:
                    skip = frozenset({("guardian", row.guardian_id)})
            notice = Notice.of(
                alert,
                alert.escalation_step,
                specs,
                zone,
                book.now,
                stage=stage,
                lead=lead,
                skip=skip,
            )
            book.notify(notice)
            sent = True
        alert.notices_through = row.id
    if rows:
        book.changed(alert)
    return sent


class Circle:
    """The deadlines of one alert's response circle, checked at the book's time."""

    def __init__(
        self, book: AlertBook, alert: AlertState, rule: Rule, rules: RuleSet, zone: ZoneInfo
    ) -> None:
        self.book, self.alert, self.rule, self.rules, self.zone = book, alert, rule, rules, zone
        self.now_ms = _ms(book.now)

    def _tell(self, specs: list[str], stage: str, lead: str, change: Change) -> None:
        alert = self.alert
        self.book.notify(
            Notice.of(
                alert,
                alert.escalation_step,
                specs,
                self.zone,
                self.book.now,
                stage=stage,
                lead=lead,
            )
        )
        self.book.changed(alert)
        self.book.announce(alert, change)

    def missed_arrival(self) -> bool:
        """Tell the arrival recipients if nobody is on site by the deadline; whether it did."""
        due = arrival_due_ms(self.alert, self.rule, self.rules)
        if due is None or due > self.now_ms:
            return False
        alert = self.alert
        minutes = (due - _ms(alert.reopened_at or alert.created_at)) / 60000
        alert.arrival_missed_at = self.book.now
        specs = self.rules.response.arrival_recipients(self.rule.alert)
        stage = ARRIVAL_STAGE if alert.reopened_at is None else f"{ARRIVAL_STAGE}{alert.version}"
        self._tell(specs, stage, f"{minutes:g}分钟内无人到场", Change.ARRIVAL_MISSED)
        return True

    def set_due(self) -> None:
        """Give a dispatched case without one its due time (dispatch + `response.due_s`)."""
        alert = self.alert
        due_s = self.rules.response.due_s.get(alert.severity)
        if alert.status is not AlertStatus.DISPATCHED or alert.due_at is not None or not due_s:
            return
        alert.due_at = (alert.dispatched_at or self.book.now) + timedelta(seconds=due_s)
        self.book.changed(alert)
        self.book.announce(alert, Change.DUE)

    def overdue(self) -> bool:
        """Tell the supervisors once a dispatched case is past its due time; whether it did."""
        due = overdue_due_ms(self.alert, self.rules)
        if due is None or self.alert.due_at is None or due > self.now_ms:
            return False
        self.alert.overdue_at = self.book.now
        specs = list(self.rules.response.overdue_notify)
        self._tell(specs, "overdue", "已超过处置时限，请督办", Change.OVERDUE)
        return True

    def remind(self) -> bool:
        """Notify the staff told so far again when an acknowledged alert stays unresolved
        (once, however many intervals passed); whether it did."""
        alert = self.alert
        due = reminder_due_ms(alert, self.rules)
        if due is None or due > self.now_ms or alert.acknowledged_at is None:
            return False
        every_ms = int(self.rules.response.remind_s[alert.severity] * 1000)
        alert.reminders = (self.now_ms - _ms(alert.acknowledged_at)) // every_ms
        minutes = (self.now_ms - _ms(alert.acknowledged_at)) // 60000
        lead = f"已确认{minutes}分钟仍未处置"
        self._tell(
            staff_so_far(self.rule, alert), f"remind{alert.reminders}", lead, Change.REMINDED
        )
        return True
