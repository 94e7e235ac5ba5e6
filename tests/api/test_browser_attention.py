"""The dashboard asks for attention, in Chromium: open critical alerts first, the sound of an
unacknowledged critical alert repeats (the setting kept per user) and the title flashes until
someone acknowledges it; the statistics follow the live feed."""

from datetime import timedelta

import redis
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from alert_api.pages.staff_pages import ALARM_REPEAT_MS
from records.base import utcnow
from records.outbox import OutputStreams
from records.types import Severity
from tests.api.browsing import (
    BROWSER_TESTS,
    browser,
    screenshot,
    signed_in,
    sync_api,
    wait_until,
)
from tests.api.builders import Users, raise_alert

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS


def card_ids(page: "sync_api.Page") -> list[int]:
    ids = page.eval_on_selector_all(".alert-card", "(cards) => cards.map((c) => c.dataset.id)")
    return [int(i) for i in ids]


def test_critical_first_repeating_sound_flashing_title_live_statistics(
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    earlier = utcnow() - timedelta(minutes=10)
    fall = raise_alert(sessions, redis_client, streams, created_at=earlier)
    loitering = raise_alert(
        sessions,
        redis_client,
        streams,
        severity=Severity.HIGH,
        type_="loitering",
        title="门口有人逗留",
    )
    page, errors = signed_in(browser, live_server, "town", viewport={"width": 1366, "height": 768})
    page.wait_for_url(f"{live_server}/dashboard")
    page.wait_for_selector("#live.on")
    assert card_ids(page) == [fall, loitering]  # the older fall above the newer loitering
    assert page.locator("#sound").inner_text() == "声音提醒：开"
    page.locator("body").click()  # the browser lets sound play after a click
    wait_until(
        page, "Number(document.body.dataset.beeps || 0) >= 2", ALARM_REPEAT_MS * 2 / 1000 + 5
    )  # repeated while nobody acknowledged it
    titles = {page.title()}
    for _ in range(6):
        page.wait_for_timeout(400)
        titles.add(page.title())
    assert any("危急告警待确认" in title for title in titles) and len(titles) == 2  # flashing
    screenshot(page, "dashboard-critical-first-1366")
    totals = page.locator("#stats-totals .figure strong").first
    wait_until(page, "document.querySelector('#stats-totals .figure strong')")
    assert totals.inner_text() == "2"
    later = raise_alert(
        sessions,
        redis_client,
        streams,
        severity=Severity.MEDIUM,
        type_="inactivity",
        title="无活动",
    )
    page.locator(f'.alert-card[data-id="{later}"]').wait_for()
    assert card_ids(page) == [fall, later, loitering]
    wait_until(
        page,
        "document.querySelector('#stats-totals .figure strong').textContent === '3'",
        8,
    )  # the statistics followed the feed
    page.locator(f'.alert-card[data-id="{fall}"] button[data-to="acknowledged"]').click()
    page.wait_for_selector(f'.alert-card[data-id="{fall}"][data-status="acknowledged"]')
    assert card_ids(page) == [fall, later, loitering]  # still open: still first
    beeps = page.evaluate("Number(document.body.dataset.beeps)")
    page.wait_for_timeout(ALARM_REPEAT_MS + 1000)
    assert page.evaluate("Number(document.body.dataset.beeps)") == beeps  # quiet now
    assert "危急" not in page.title()
    page.locator("#sound").click()  # off, and remembered for this user after a reload
    page.reload()
    page.wait_for_selector("#live.on")
    assert page.locator("#sound").inner_text() == "声音提醒：关"
    assert errors == []
