"""An alert's page on a long case, in Chromium: the head (status, person, place, actions)
stays in view, the timeline is folded to its first and latest rows, the audit trail is a tab,
and an action's result shows in the head."""

from datetime import timedelta

import redis
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.alerts import Alert, AlertEvent
from records.outbox import OutputStreams
from tests.api.browsing import (
    BROWSER_TESTS,
    browser,
    screenshot,
    sign_in,
    signed_in,
    sync_api,
    wait_until,
)
from tests.api.builders import Users, raise_alert

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS
UPDATES = 243


def long_alert(
    sessions: sessionmaker[Session],
    client: redis.Redis,
    streams: OutputStreams,
    snapshot_dir: object,
) -> int:
    """A fall still in view for minutes: the start and 243 updates, each with a snapshot."""
    alert_id = raise_alert(sessions, client, streams, snapshot_dir=snapshot_dir)  # type: ignore[arg-type]
    with sessions.begin() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        for n in range(UPDATES):
            session.add(
                AlertEvent(
                    alert_id=alert_id,
                    rule_id="elder_fall",
                    event_key=f"event:update-{alert_id}-{n}",
                    episode_key=f"episode:long-{alert_id}",
                    event_id=f"update-{alert_id}-{n}",
                    kind="event",
                    type="fall",
                    phase="update",
                    observed_at=alert.first_seen_at + timedelta(seconds=n + 1),
                    confidence=0.7,
                    snapshot_path=alert.snapshot_path,
                    entry_id=f"{n + 2}-0",
                )
            )
        alert.event_count = UPDATES + 1
    return alert_id


def test_a_long_case_keeps_its_head_in_view_and_shows_each_result_there(
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = long_alert(sessions, redis_client, streams, context.settings.api.snapshot_dir)
    page, errors = signed_in(browser, live_server, "town", viewport={"width": 1366, "height": 768})
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/alerts/{alert_id}")
    rows = page.locator(".timeline li:not(.fold):visible")
    assert rows.count() == 6  # the first and the latest five
    assert "首次" in rows.first.inner_text() and "最新" in rows.last.inner_text()
    assert page.evaluate("document.body.scrollHeight") < 2 * 768
    screenshot(page, "alert-long-case-1366")
    show_all = page.locator("#show-all")
    assert f"显示全部 {UPDATES + 1} 条" in show_all.inner_text()
    show_all.click()
    assert rows.count() == UPDATES + 1
    page.mouse.wheel(0, 100_000)  # far down the timeline
    wait_until(page, "window.scrollY > 5000")
    head = page.locator("#case-head")
    assert head.locator('button[data-to="acknowledged"]').is_visible()
    assert "王秀英" in head.inner_text()  # the person stays in view with the actions
    head.locator('button[data-to="acknowledged"]').click()
    result = page.locator("#action-result")
    result.wait_for()
    wait_until(page, "document.getElementById('action-result').textContent.includes('已确认')")
    box = result.bounding_box()
    assert box is not None and 0 <= box["y"] < 768  # where the officer is looking
    assert page.locator("#status").inner_text() == "已确认"
    assert page.locator('#case-head button[data-to="acknowledged"]').count() == 0
    page.locator('[data-tab="audit"]').click()
    audit = page.locator("#audit")
    assert audit.is_visible() and not page.locator("#timeline").is_visible()
    assert "已确认" in audit.inner_text() and "town" in audit.inner_text()
    screenshot(page, "alert-long-case-acknowledged-1366")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in(phone, live_server, "town")
    phone.wait_for_url(f"{live_server}/dashboard")
    phone.goto(f"{live_server}/alerts/{alert_id}")
    screenshot(phone, "alert-long-case-390")
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    wait_until(phone, "window.scrollY > 300")  # the phone's screen goes to the case, not its head
    head_box = phone.locator("#case-head").bounding_box()
    assert head_box is not None and head_box["y"] < -300  # scrolled away, not pinned at the top
    assert errors == []
