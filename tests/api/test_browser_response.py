"""The response circle in a real headless Chromium (Debian's `chromium`, driven by
Playwright): a grid worker on a phone marks arrival on site from the alert page, and the
officer's dashboard shows it live; an overdue case is red on the supervisor's dashboard, and
the supervisor urges it on (督办) from the alert page or from its dashboard card, where only
supervisors have the button; a guardian's phone has whom to call and
what to do, and the alert page the ledger with tap-to-call links."""

from datetime import timedelta

import redis
from sqlalchemy.orm import Session, sessionmaker

from records.alerts import Alert
from records.base import utcnow
from records.outbox import OutputStreams
from records.types import AlertStatus
from tests.api.browsing import BROWSER_TESTS, browser, screenshot, sign_in, signed_in, sync_api
from tests.api.builders import raise_alert

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 768}


def dispatched(sessions: sessionmaker[Session], alert_id: int, due_in: timedelta) -> None:
    """Make the alert a case dispatched 35 minutes ago, due `due_in` from now (overdue, as the
    rules say, if that has passed)."""
    with sessions.begin() as session:
        now = utcnow()
        alert = session.get(Alert, alert_id)
        assert alert is not None
        alert.status, alert.version = AlertStatus.DISPATCHED, 3
        alert.dispatched_at, alert.due_at = now - timedelta(minutes=35), now + due_in
        alert.overdue_at = now if due_in < timedelta(0) else None


def test_a_grid_worker_marks_arrival_from_the_phone(
    live_server: str,
    browser: "sync_api.Browser",
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    officer = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(officer, live_server, "town")
    officer.wait_for_url(f"{live_server}/dashboard")
    officer.wait_for_selector("#live.on")
    card = officer.locator(f'.alert-card[data-id="{alert_id}"]')
    card.wait_for()
    assert card.locator(".badge.arrived").count() == 0

    phone, errors = signed_in(
        browser, live_server, "gw1", viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone.goto(f"{live_server}/alerts/{alert_id}")
    phone.locator("button[data-arrive]").tap()
    phone.fill("#note-slot textarea[name=note]", "院门口")
    phone.locator("#note-slot button[type=submit]").tap()
    phone.locator("#arrived").wait_for()
    assert "已到场 · gw1" in phone.locator("#arrived").inner_text()
    assert phone.locator("button[data-arrive]").count() == 0
    assert "已记录到场，告警已确认" in phone.locator("#action-result").inner_text()
    assert phone.locator("#status").inner_text() == "已确认"
    audit = phone.locator("#audit .audit-arrival")
    assert "已到场" in audit.inner_text() and "院门口" in audit.inner_text()
    screenshot(phone, "alert-arrived-phone")
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.arrived_by == "gw1"
        assert alert.status.value == "acknowledged"

    badge = card.locator(".badge.arrived")
    badge.wait_for(timeout=5000)  # live on the dashboard, without reloading
    assert "gw1" in badge.inner_text()
    assert errors == []


def test_the_officer_dispatches_to_the_grid_worker_of_the_area(
    live_server: str,
    browser: "sync_api.Browser",
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    page, errors = signed_in(browser, live_server, "town", viewport={"width": 1400, "height": 900})
    page.goto(f"{live_server}/alerts/{alert_id}")
    page.locator('#actions button[data-to="acknowledged"]').click()
    page.locator('#actions button[data-to="dispatched"]').click()
    pick = page.locator("#note-slot select[name=staff]")
    pick.wait_for()
    options = pick.locator("option").all_inner_texts()[1:]
    assert options == [
        "杨秀兰 · 网格员 · 马岩村第一网格",
        "灯塔派出所 · 派出所 · 灯塔街道",
        "灯塔街道值班室 · 值班员 · 灯塔街道",
        "碧江区综治中心 · 值班员 · 碧江区",
    ]
    pick.select_option(label=options[0])
    page.fill("#note-slot textarea[name=note]", "请先上门看看")
    page.locator("#note-slot button[type=submit]").click()
    page.locator("#audit .audit-status", has_text="派给 杨秀兰").wait_for(state="attached")
    assert "已派单" in page.locator("#action-result").inner_text()
    screenshot(page, "alert-dispatched")
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status is AlertStatus.DISPATCHED
        (note,) = [t.note for t in alert.transitions if t.to_status is AlertStatus.DISPATCHED]
        assert note == "派给 杨秀兰：请先上门看看"
    assert errors == []


def test_an_overdue_case_is_red_and_the_supervisor_urges_it_on(
    live_server: str,
    browser: "sync_api.Browser",
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    on_time = raise_alert(sessions, redis_client, streams, title="老人跌倒：另一位")
    dispatched(sessions, alert_id, timedelta(minutes=-5))
    dispatched(sessions, on_time, timedelta(hours=1))
    page, errors = signed_in(browser, live_server, "sup", viewport={"width": 1400, "height": 900})
    page.wait_for_url(f"{live_server}/dashboard")
    late = page.locator(f'.alert-card[data-id="{alert_id}"]')
    late.wait_for()
    assert "overdue" in (late.get_attribute("class") or "")
    assert "已超时" in late.locator(".badge.overdue").inner_text()
    fine = page.locator(f'.alert-card[data-id="{on_time}"]')
    assert "overdue" not in (fine.get_attribute("class") or "")
    screenshot(page, "dashboard-overdue")

    page.goto(f"{live_server}/alerts/{alert_id}")
    assert page.locator("#due").count() == 1 and page.locator("#overdue").count() == 1
    page.locator("button[data-urge]").click()
    page.fill("#note-slot textarea[name=note]", "十分钟内回报老人情况")
    page.locator("#note-slot button[type=submit]").click()
    page.locator("#urged").wait_for()
    assert "已督办 · sup" in page.locator("#urged").inner_text()
    assert "已督办" in page.locator("#action-result").inner_text()
    audit = page.locator("#audit .audit-urge")
    assert "督办" in audit.inner_text() and "十分钟内回报老人情况" in audit.inner_text()
    with sessions() as session:
        urged = session.get(Alert, alert_id)
        assert urged is not None and urged.urged_by == "sup"
        assert urged.status is AlertStatus.DISPATCHED
    assert errors == []


def test_the_supervisor_urges_a_case_on_from_a_dashboard_card(
    live_server: str,
    browser: "sync_api.Browser",
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    late = raise_alert(sessions, redis_client, streams)
    dispatched(sessions, late, timedelta(minutes=-5))
    closed = raise_alert(sessions, redis_client, streams, title="老人跌倒：已处置")
    with sessions.begin() as session:
        alert = session.get(Alert, closed)
        assert alert is not None
        alert.status = AlertStatus.RESOLVED
    watching, _ = signed_in(
        browser, live_server, "sup", viewport=PHONE, is_mobile=True, has_touch=True
    )
    watching.goto(f"{live_server}/dashboard?status=")  # every status: the closed one too
    watching.locator(f'.alert-card[data-id="{closed}"]').wait_for()
    assert watching.locator(f'.alert-card[data-id="{closed}"] button[data-urge]').count() == 0
    watching.wait_for_selector("#live.on")

    page, errors = signed_in(browser, live_server, "sup", viewport=DESK)
    page.wait_for_url(f"{live_server}/dashboard")
    card = page.locator(f'.alert-card[data-id="{late}"]')
    card.locator("button[data-urge]").click()
    note = card.locator(".note-slot textarea[name=note]")
    assert note.get_attribute("placeholder") == "督办意见（必填）"
    card.locator(".note-slot button[type=submit]").click()  # no note: the form holds
    assert note.is_visible()
    note.fill("十分钟内回报老人情况")
    screenshot(page, "dashboard-urge-note")
    card.locator(".note-slot button[type=submit]").click()
    badge = card.locator(".badge.urged")
    badge.wait_for()  # on the card, without reloading
    assert "已督办 · sup" in badge.inner_text()
    page.locator("#toast", has_text="已督办，处置人员会收到通知").wait_for()
    assert "overdue" in (card.get_attribute("class") or "")  # still late: urged, not resolved
    screenshot(page, "dashboard-urged")
    with sessions() as session:
        urged = session.get(Alert, late)
        assert urged is not None and urged.urged_by == "sup"
        assert urged.status is AlertStatus.DISPATCHED
        assert [t.note for t in urged.transitions][-1] == "十分钟内回报老人情况"

    live = watching.locator(f'.alert-card[data-id="{late}"] .badge.urged')
    live.wait_for(timeout=5000)  # the live feed's `urged` redraws the other page's card
    screenshot(watching, "dashboard-urged-phone")
    assert errors == []


def test_only_supervisors_have_the_urge_button_on_the_dashboard(
    live_server: str,
    browser: "sync_api.Browser",
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    dispatched(sessions, alert_id, timedelta(minutes=-5))
    for login in ("town", "gw1"):  # a duty officer, a grid worker
        page, errors = signed_in(
            browser, live_server, login, viewport=PHONE, is_mobile=True, has_touch=True
        )
        page.wait_for_url(f"{live_server}/dashboard")
        card = page.locator(f'.alert-card[data-id="{alert_id}"]')
        card.locator("button[data-to]").first.wait_for()  # their actions are there
        assert card.locator("button[data-urge]").count() == 0
        assert errors == []
    screenshot(page, "dashboard-no-urge-phone")


def test_the_guardian_phone_calls_with_one_tap_and_says_what_to_do(
    live_server: str,
    browser: "sync_api.Browser",
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    phone, errors = signed_in(
        browser, live_server, "13900000001", viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone.wait_for_url(f"{live_server}/guardian")
    calls = phone.locator("#g-calls a.call")
    assert [(a.get_attribute("href"), a.inner_text()) for a in calls.all()] == [
        ("tel:13800000001", "网格员 杨秀兰"),
        ("tel:08565000001", "值班员 灯塔街道值班室"),
        ("tel:120", "拨打 120 急救"),
    ]
    todo = phone.locator(f'.g-card[data-id="{alert_id}"] .todo')
    todo.wait_for()
    assert "不要强行扶起" in todo.inner_text()  # what to do after a fall
    screenshot(phone, "guardian-calls")

    phone.goto(f"{live_server}/alerts/{alert_id}")
    ledger = phone.locator(".ledger").inner_text()
    assert "王秀英" in ledger and "岁" in ledger and "独居" in ledger and "高血压" in ledger
    links = {a.get_attribute("href") for a in phone.locator(".case-facts a.call").all()}
    assert links == {"tel:13900000001", "tel:13900000002", "tel:13800000001", "tel:08565000001"}
    assert errors == []
