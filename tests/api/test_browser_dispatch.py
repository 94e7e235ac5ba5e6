"""派单 and 改派 in a real headless Chromium (Debian's `chromium`, driven by Playwright): the
duty officer dispatches an alert to the area's grid worker from the alert page and sees the
notice line for her, re-dispatches to the police station before she was told, and once the
dispatcher has told the station the trail says so, and that she is told nothing; the grid
worker's phone shows the same trail."""

import redis
from sqlalchemy.orm import Session, sessionmaker

from records.notifications import Delivery, DeliveryOutcome
from records.outbox import OutputStreams
from tests.api.browsing import BROWSER_TESTS, browser, screenshot, signed_in, sync_api
from tests.api.builders import raise_alert
from tests.helpers.dispatches import delivered, staff_id

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def dispatch(page: "sync_api.Page", to: str, note: str) -> None:
    """Dispatch the open alert to the candidate labelled `to`, with a note, from the page."""
    page.locator('#actions button[data-to="dispatched"]').click()
    pick = page.locator("#note-slot select[name=staff]")
    pick.wait_for()
    pick.select_option(label=to)
    page.fill("#note-slot textarea[name=note]", note)
    page.locator("#note-slot button[type=submit]").click()


def test_the_officer_dispatches_and_re_dispatches_and_sees_whom_each_told(
    live_server: str,
    browser: "sync_api.Browser",
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    page, errors = signed_in(browser, live_server, "town", viewport=DESKTOP)
    page.goto(f"{live_server}/alerts/{alert_id}")
    page.locator('#actions button[data-to="acknowledged"]').click()
    dispatch(page, "杨秀兰 · 网格员 · 马岩村第一网格", "请先上门看看")
    page.locator("#audit .notice").wait_for(state="attached")
    page.locator('[data-tab="audit"]').click()
    notices = page.locator("#audit .notice")
    assert notices.all_inner_texts() == ["派单通知排队中 杨秀兰"]

    dispatch(page, "灯塔派出所 · 派出所 · 灯塔街道", "杨秀兰不在村里")
    page.locator("#audit .notice", has_text="灯塔派出所").wait_for()
    assert notices.all_inner_texts() == ["派单通知排队中 杨秀兰", "派单通知排队中 灯塔派出所"]
    police = staff_id(sessions, "灯塔派出所")
    delivered(  # the dispatcher told the station, and only the station
        sessions,
        alert_id,
        police,
        Delivery(
            channel="wecombot",
            target="wecombot://KEY-0001",
            target_key="a",
            outcome=DeliveryOutcome.SENT,
        ),
    )
    page.reload()
    page.locator('[data-tab="audit"]').click()
    assert notices.all_inner_texts() == ["未通知 杨秀兰：已改派", "已通知 灯塔派出所（企业微信群）"]
    assert "notice-untold" in (notices.first.get_attribute("class") or "")
    screenshot(page, "alert-redispatched")

    phone, phone_errors = signed_in(
        browser, live_server, "gw1", viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone.goto(f"{live_server}/alerts/{alert_id}")
    phone.locator('[data-tab="audit"]').tap()
    phone_notices = phone.locator("#audit .notice")
    assert phone_notices.all_inner_texts() == notices.all_inner_texts()
    assert all(
        box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        for box in (n.bounding_box() for n in phone_notices.all())
    )  # the lines wrap within the screen
    phone_notices.last.scroll_into_view_if_needed()
    screenshot(phone, "alert-redispatched-phone")
    assert errors == [] and phone_errors == []
