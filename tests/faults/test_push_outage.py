"""The push service and the webhook answer 500 for a while, then recover: every notification of
every alert is delivered exactly once in the end, through the whole pipeline (edge → broker →
ingest → rules → notifier → the local push service and webhook of tests/notify).

Each alert notifies the duty officer of the site's area, who has a browser subscribed to Web
Push (real VAPID keys, encrypted; the test decrypts each message to read its job id) and a
webhook (`json://`, through apprise). The outage lasts until every job has been refused at
least once on both channels, so every delivery goes through at least one retry.
"""

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from records.notifications import Delivery, DeliveryOutcome, Notification, save_push_subscription
from records.people import Staff
from records.watchlist_csv import import_csv
from tests.faults.stack import EDGE, Stack, wait_until
from tests.faults.tally import assert_nothing_lost_or_doubled, settled
from tests.faults.timeline import Timeline
from tests.notify.builders import Browser, browser
from tests.notify.servers import HttpEdge, Received, http_edge
from tests.notify.test_delivery import decrypt

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ALERTS = 100
PUSH, HOOK = "/push/duty-phone", "/hook/duty"


def import_duty_officer(stack: Stack, edge: HttpEdge) -> int:
    """The site's area and its duty officer (Web Push and a webhook); returns the staff id."""
    files = {
        "areas": "code,name,level,parent_code\nC1,碧江区,county,\n",
        "sites": f"code,name,area_code\n{stack.site},测试站点,C1\n",
        "staff": "code,name,phone,role,area_code,channels,active\n"
        f"duty-01,值班室,0856-5000001,duty_officer,C1,webpush; {edge.url(HOOK, 'json')},yes\n",
    }
    sessions = stack.sessions(read_only=False)
    for kind, text in files.items():
        with sessions.begin() as session:
            report = import_csv(session, kind, text.encode())
            assert report.ok and report.applied, [str(e) for e in report.errors]
    with sessions() as session:
        return int(session.scalars(select(Staff.id).where(Staff.code == "duty-01")).one())


def subscribe(stack: Stack, staff_id: int, page: Browser) -> None:
    with stack.sessions(read_only=False).begin() as session:
        save_push_subscription(session, "staff", staff_id, page.json(), "Mozilla/5.0 duty office")


def job_of(page: Browser, request: Received) -> str:
    return str(decrypt(page, request)["job_id"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_push_endpoint_failing_then_recovering_delivers_each_notification_once(
    stack: Stack,
) -> None:
    with http_edge() as edge:
        staff_id = import_duty_officer(stack, edge)
        page = browser(edge.url(PUSH))
        subscribe(stack, staff_id, page)
        down = threading.Event()
        down.set()
        for path in (PUSH, HOOK):
            edge.hooks[path] = lambda: 500 if down.is_set() else None
        stack.write_config(
            notify={"concurrency": 8, "timeout_s": 10, "reclaim_idle_ms": 30_000},
            notify_retry={
                "initial_delay_s": 0.5,
                "multiplier": 2,
                "max_delay_s": 2,
                "jitter": 0,
                "max_attempts": 100,
            },
            notify_webpush={
                "subject": "mailto:ops@shouwang.example",
                "endpoint_hosts": ["127.0.0.1"],
            },
        )
        stack.start_ingest("ingest-1")
        stack.start_rules("rules-1")
        stack.start_notifier("notifier-1")

        timeline = Timeline(stack.site, EDGE, cameras=ALERTS, spacing_s=1.0)
        events = timeline.episodes(ALERTS)  # one camera each: titles tell the alerts apart
        publisher = stack.publisher()
        for event in events:
            publisher.publish_event(event)
        tally = settled(stack, events)

        def refused_everywhere() -> bool:
            stack.check_services()
            pushed = {job_of(page, r) for r in edge.to(PUSH) if r.status == 500}
            hooked = {r.json()["title"] for r in edge.to(HOOK) if r.status == 500}
            return len(pushed) == len(hooked) == ALERTS

        wait_until(refused_everywhere, 120, "every job refused on both channels", poll=0.5)
        down.clear()  # the push service and the webhook are back

        with stack.sessions()() as session:
            jobs = {
                job_id: title
                for job_id, title in session.execute(
                    select(Notification.job_id, Notification.title)
                )
            }

        def all_sent() -> bool:
            stack.check_services()
            with stack.sessions()() as session:
                outcomes = Counter(session.scalars(select(Delivery.outcome)))
            return outcomes == Counter({DeliveryOutcome.SENT: 2 * ALERTS})

        wait_until(all_sent, 120, "every delivery sent", poll=0.5)
        stack.services["notifier-1"].terminate()  # anything still in flight would show now
        pushed = Counter(job_of(page, r) for r in edge.accepted(PUSH))
        hooked = Counter(r.json()["title"] for r in edge.accepted(HOOK))
        attempts = len(edge.to(PUSH)) + len(edge.to(HOOK))

    print(
        f"push outage: {ALERTS} alerts, {len(jobs)} jobs, {attempts} requests, "
        f"{sum(pushed.values())} pushes and {sum(hooked.values())} webhooks accepted; "
        f"{tally.summary()}"
    )
    assert_nothing_lost_or_doubled(tally, stack, events)
    assert len(jobs) == ALERTS
    assert set(jobs) == {f"{alert}:0:staff:{staff_id}" for alert in range(1, ALERTS + 1)}
    assert pushed == Counter(dict.fromkeys(jobs, 1)), "a push was lost or sent twice"
    assert hooked == Counter(dict.fromkeys(jobs.values(), 1)), "a webhook was lost or sent twice"
    with stack.sessions()() as session:
        retried = session.scalars(select(Delivery.attempts)).all()
    assert min(retried) >= 2, "a delivery never met the outage"
