"""The evidence clip plays in Chromium: on the alert's page (a duty officer at 1366×768) and
on the guardian's phone page and alert page (390×844), both open before it arrives (the clip
comes seconds after its alert) and showing it when it does, without a reload."""

import redis
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from tests.api.browsing import BROWSER_TESTS, browser, screenshot, signed_in, sync_api, wait_until
from tests.api.builders import Users, raise_alert
from tests.api.evidence import store_clip

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS


def plays(page: "sync_api.Page", selector: str) -> None:
    """Start the video (muted, as a tap would) and see its frames decode and time advance."""
    video = f"document.querySelector({selector!r})"
    page.evaluate(f"{video}.muted = true; {video}.play()")
    wait_until(page, f"{video}.readyState >= 2 && {video}.currentTime > 0.5", timeout_s=15)
    assert page.evaluate(f"{video}.error") is None
    assert page.evaluate(f"{video}.videoWidth") == 320
    assert page.evaluate(f"{video}.duration") > 3.5


def test_the_clip_plays_on_the_alert_page_and_the_guardian_phone(
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    snapshots = context.settings.api.snapshot_dir
    alert_id = raise_alert(sessions, redis_client, streams, snapshot_dir=snapshots)
    page, errors = signed_in(browser, live_server, "town", viewport={"width": 1366, "height": 768})
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/alerts/{alert_id}")
    page.wait_for_load_state("networkidle")
    assert page.locator("video#clip").count() == 0 and page.locator("#case-media img").count()

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    mobile, mobile_errors = signed_in(phone, live_server, "13900000001")
    mobile.wait_for_url(f"{live_server}/guardian")
    card = f'.g-card[data-id="{alert_id}"]'
    mobile.locator(card).wait_for()
    assert mobile.locator(f"{card} video.clip").count() == 0

    store_clip(sessions, snapshots, alert_id, redis_client, streams)  # the rules announce it
    wait_until(page, "document.querySelector('video#clip') !== null")
    assert page.get_attribute("video#clip", "aria-label") == "事发前后录像"
    assert (page.get_attribute("video#clip", "poster") or "").startswith(
        f"/api/alerts/{alert_id}/snapshots/"
    )
    plays(page, "video#clip")
    screenshot(page, "alert-clip")

    video = f"{card} video.clip"
    wait_until(mobile, f"document.querySelector({video!r}) !== null")
    assert mobile.get_attribute(video, "preload") == "none"  # a phone loads it when played
    plays(mobile, video)
    screenshot(mobile, "guardian-clip")
    mobile.goto(f"{live_server}/alerts/{alert_id}")
    plays(mobile, "video#clip")
    assert errors == [] and mobile_errors == []
    phone.close()
