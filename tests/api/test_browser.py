"""The pages in a real headless Chromium (Debian's `chromium`, driven by Playwright): an
officer sees a new alert arrive live and acts on it; a guardian's phone lists their ward's
alert (and not another's), answers "I'm on it", and registers the service worker; an officer
sees the family's response live; a grid worker assigns a sensor nobody had assigned."""

import re
from datetime import UTC, datetime

import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.alerts import Alert
from records.device_registry import report_unassigned
from records.outbox import OutputStreams
from tests.api.browsing import BROWSER_TESTS, SCREENSHOTS, browser, signed_in, sync_api
from tests.api.builders import GRID_2, Users, bearer, raise_alert

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS


def status_of(sessions: sessionmaker[Session], alert_id: int) -> str:
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.status.value


def test_an_officer_sees_a_new_alert_live_and_acts_on_it(
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    page, errors = signed_in(browser, live_server, "town", viewport={"width": 1400, "height": 900})
    page.wait_for_url(f"{live_server}/dashboard")
    page.wait_for_selector("#live.on")  # the live feed is connected
    alert_id = raise_alert(
        sessions, redis_client, streams, snapshot_dir=context.settings.api.snapshot_dir
    )
    card = page.locator(f'.alert-card[data-id="{alert_id}"]')
    card.wait_for(timeout=5000)  # arrived without reloading
    assert "flash" in (card.get_attribute("class") or "")  # critical and new: highlighted
    assert "老人跌倒" in card.inner_text()
    assert "摄像机自带分析" not in card.inner_text()
    camera_alert = raise_alert(
        sessions,
        redis_client,
        streams,
        type_="intrusion",
        title="夜间危险区域有人闯入（cam-pond）",
        details={"origin": "camera", "attributes": {"protocol": "gb28181"}},
    )
    camera_card = page.locator(f'.alert-card[data-id="{camera_alert}"]')
    camera_card.wait_for(timeout=5000)
    assert "摄像机自带分析" in camera_card.inner_text() and "入侵" in camera_card.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-camera-origin.png"))
    snapshot = card.locator("img.snapshot")
    assert re.fullmatch(
        rf"/api/alerts/{alert_id}/snapshots/[0-9a-f]{{32}}", snapshot.get_attribute("src") or ""
    )
    card.locator('button[data-to="acknowledged"]').click()
    page.wait_for_selector(f'.alert-card[data-id="{alert_id}"][data-status="acknowledged"]')
    assert status_of(sessions, alert_id) == "acknowledged"
    page.locator(f'.alert-card[data-id="{alert_id}"] button[data-to="resolved"]').click()
    page.fill(f'.alert-card[data-id="{alert_id}"] textarea[name=note]', "老人已扶起，无外伤")
    page.locator(f'.alert-card[data-id="{alert_id}"] .note-form button[type=submit]').click()
    card.wait_for(state="detached")  # resolved alerts leave the open list
    assert status_of(sessions, alert_id) == "resolved"
    page.goto(f"{live_server}/alerts/{alert_id}")
    audit = page.locator("#audit").inner_text()
    assert "老人已扶起，无外伤" in audit and "town" in audit
    page.goto(f"{live_server}/dashboard")
    page.wait_for_selector("#chart-days svg rect.bar", state="attached")  # statistics chart
    heights = page.eval_on_selector_all(
        "#chart-days rect.bar", "(bars) => bars.map((b) => Number(b.getAttribute('height')))"
    )
    assert len(heights) in (7, 8) and max(heights) > 0  # today's alert, drawn
    assert errors == []


def test_a_guardian_phone_lists_the_ward_answers_and_installs(
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    snapshots = context.settings.api.snapshot_dir
    wang = raise_alert(sessions, redis_client, streams, snapshot_dir=snapshots)
    other = raise_alert(
        sessions, redis_client, streams, person_codes=("P002",), grid=GRID_2, title="儿童"
    )
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page, errors = signed_in(phone, live_server, "13900000001")
    page.wait_for_url(f"{live_server}/guardian")
    card = page.locator(f'.g-card[data-id="{wang}"]')
    card.wait_for()
    assert page.locator(f'.g-card[data-id="{other}"]').count() == 0
    assert page.locator(".g-card").count() == 1
    assert (card.locator("img.snapshot").get_attribute("src") or "").startswith(
        f"/api/alerts/{wang}/snapshots/"
    )
    page.wait_for_selector("body[data-service-worker=registered]")
    script = page.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.active && r.active.scriptURL)"
    )
    assert script == f"{live_server}/sw.js"
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then((r) => r.json())"
    )
    assert manifest["start_url"] == "/guardian"
    card.locator("button.on-it").tap()
    page.locator(f'.g-card[data-id="{wang}"] .badge.family-response').wait_for()
    assert "家属已响应" in card.inner_text()
    assert status_of(sessions, wang) == "new"  # the duty office still has to acknowledge
    assert card.locator("button.on-it").count() == 0
    later = raise_alert(sessions, redis_client, streams, title="再次跌倒")
    page.locator(f'.g-card[data-id="{later}"]').wait_for(timeout=5000)  # live on the phone too
    assert errors == []
    phone.close()


def test_the_officer_sees_the_family_response_live_and_in_the_audit_trail(
    live_server: str,
    browser: "sync_api.Browser",
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    page, errors = signed_in(browser, live_server, "town", viewport={"width": 1400, "height": 900})
    page.wait_for_url(f"{live_server}/dashboard")
    page.wait_for_selector("#live.on")
    card = page.locator(f'.alert-card[data-id="{alert_id}"]')
    card.wait_for()
    assert card.locator(".badge.family-response").count() == 0
    answered = client.post(
        f"/api/alerts/{alert_id}/on-it", headers=bearer(context, village.wang_li)
    )
    assert answered.json()["family_response"] is True
    badge = card.locator(".badge.family-response")
    badge.wait_for(timeout=5000)  # live, without reloading
    assert "家属已响应" in badge.inner_text() and "13900000001" in badge.inner_text()
    assert card.get_attribute("data-status") == "new"
    assert card.locator('button[data-to="acknowledged"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / "dashboard-family-response.png"))
    page.goto(f"{live_server}/alerts/{alert_id}")
    assert "家属已响应" in page.locator("#family-response").inner_text()
    assert "家属响应" in page.locator("#audit .audit-family_response").inner_text()
    assert errors == []


def test_a_grid_worker_assigns_an_unknown_sensor_on_the_devices_page(
    live_server: str,
    browser: "sync_api.Browser",
    village: Users,
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        report_unassigned(
            session,
            protocol="zigbee2mqtt",
            address="0x00124b00000000a3",
            reason="unknown_device",
            detail="no device-table row for '0x00124b00000000a3'",
            friendly_name="new-door",
            model="SONOFF SNZB-04",
            suggested_kinds=["door_contact"],
            payload='{"contact": true, "battery": 100}',
            seen_at=datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
        )
    page, errors = signed_in(browser, live_server, "gw1", viewport={"width": 1400, "height": 900})
    page.wait_for_url(f"{live_server}/dashboard")
    waiting = page.locator("#unassigned-devices a")
    assert waiting.inner_text() == "新传感器待分配: 1"
    waiting.click()
    page.wait_for_url(f"{live_server}/watchlist/devices")
    row = page.locator("#unassigned tbody tr")
    assert "未登记的设备" in row.inner_text() and "SONOFF SNZB-04" in row.inner_text()
    assert row.locator('input[name=kinds][value="door_contact"]').is_checked()  # suggested
    row.locator("input[name=device]").fill("door-kitchen-wang")
    row.locator("input[name=location]").fill("厨房门")
    row.locator("select[name=person]").select_option("P001")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#assignments")  # the page reloads with the audit row
    page.screenshot(path=str(SCREENSHOTS / "devices-assigned.png"))
    assert "没有待分配的设备" in page.inner_text("main")
    assert "door-kitchen-wang" in page.inner_text("#device-table")
    audit = page.inner_text("#assignments")
    assert "已分配" in audit and "person:P001" in audit and "门磁" in audit
    assert errors == []
