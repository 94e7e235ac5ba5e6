"""A note being typed survives the live feed, in a real headless Chromium (Debian's `chromium`,
driven by Playwright): a dashboard card with its note form open keeps the form and the text
while its alert changes (only its badges are redrawn) and shows the new state once the note
is sent; when someone else handled the alert meanwhile, sending says so in the form, which
keeps the text; the alert page redraws its head when someone else moves the case on, and
keeps an open form (and what it holds) whenever it redraws its head. Also: 改派 on a
dispatched case, and the phone layout of an alert page without a snapshot."""

from itertools import pairwise

import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.alerts import Alert
from records.outbox import OutputStreams
from records.types import AlertStatus
from tests.api.browsing import (
    BROWSER_TESTS,
    browser,
    screenshot,
    signed_in,
    sync_api,
    wait_until,
)
from tests.api.builders import Users, bearer, raise_alert, update_alert
from tests.helpers.dispatches import staff_id

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
NOTE = "老人已送医，家属陪同；"
TAKEN = "已被他人处理：该告警现为「已处置」，无法再「处置完成」。"


def move(
    client: TestClient, context: AppContext, user: int, alert_id: int, to: str, **body: object
) -> None:
    """Move the alert to `to` through the API, as `user` (someone else than the page's)."""
    headers = bearer(context, user)
    version = client.get(f"/api/alerts/{alert_id}", headers=headers).json()["version"]
    answer = client.post(
        f"/api/alerts/{alert_id}/transitions",
        headers=headers,
        json={"to": to, "version": version, **body},
    )
    assert answer.status_code == 200, answer.text


def dashboard_card(
    browser: "sync_api.Browser", base: str, alert_id: int, **options: object
) -> tuple["sync_api.Page", "sync_api.Locator", list[str]]:
    """The town officer's dashboard of every status (closed alerts stay), following the live
    feed, and the alert's card on it."""
    page, errors = signed_in(browser, base, "town", **options)
    page.wait_for_url(f"{base}/dashboard")
    page.goto(f"{base}/dashboard?status=")
    page.wait_for_selector("#live.on")
    card = page.locator(f'.alert-card[data-id="{alert_id}"]')
    card.wait_for()
    return page, card, errors


def test_a_card_keeps_the_note_being_typed_while_its_alert_changes(
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
    move(client, context, village.county_officer, alert_id, "acknowledged")
    page, card, errors = dashboard_card(browser, live_server, alert_id, viewport=DESK)
    card.locator('button[data-to="resolved"]').click()
    note = card.locator(".note-slot textarea[name=note]")
    note.press_sequentially(NOTE)

    for _ in range(2):  # the fall goes on: 共 3 次
        update_alert(sessions, redis_client, streams, alert_id)
    newer = raise_alert(sessions, redis_client, streams, title="老人跌倒：另一位")  # on top
    page.locator(f'.alert-card[data-id="{newer}"]').wait_for()
    wait_until(
        page,
        f"document.querySelector('[data-id=\"{alert_id}\"] .meta').textContent.includes('共 3 次')",
    )
    assert note.input_value() == NOTE  # the same form, still being typed in
    assert page.evaluate("document.activeElement.name") == "note"
    note.press_sequentially("已回访")
    screenshot(page, "dashboard-note-kept-1366")

    card.locator(".note-slot button[type=submit]").click()
    card.locator('button[data-to="followed_up"]').wait_for()  # redrawn in its new state
    assert card.get_attribute("data-status") == "resolved"
    assert card.locator(".badge.status").inner_text() == "已处置"
    assert "共 3 次" in card.locator(".meta").inner_text()
    assert card.locator(".note-slot").inner_html() == ""
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status is AlertStatus.RESOLVED
        assert alert.transitions[-1].note == NOTE + "已回访"
    assert errors == []


def test_a_note_for_an_alert_someone_else_resolved_is_refused_and_kept(
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
    move(client, context, village.county_officer, alert_id, "acknowledged")
    page, card, errors = dashboard_card(
        browser, live_server, alert_id, viewport=PHONE, is_mobile=True, has_touch=True
    )
    card.locator('button[data-to="resolved"]').tap()
    note = card.locator(".note-slot textarea[name=note]")
    note.fill(NOTE)
    move(client, context, village.county_officer, alert_id, "resolved", note="区中心已处置")
    wait_until(
        page, f"document.querySelector('[data-id=\"{alert_id}\"]').dataset.status === 'resolved'"
    )  # told in place: the badge says 已处置
    assert card.locator(".badge.status").inner_text() == "已处置"
    assert note.input_value() == NOTE

    card.locator(".note-slot button[type=submit]").tap()
    refusal = card.locator(".note-slot .refusal")
    refusal.wait_for()
    assert refusal.inner_text() == TAKEN + "\n您填写的内容仍在框内，可复制保存。"
    assert note.input_value() == NOTE  # to copy
    assert card.locator(".note-slot button[type=submit]").is_disabled()
    screenshot(page, "dashboard-note-refused-390")
    card.locator(".note-slot button.cancel").tap()
    card.locator('button[data-to="followed_up"]').wait_for()  # redrawn in its new state
    assert card.locator(".note-slot").inner_html() == ""
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status is AlertStatus.RESOLVED
        assert [t.note for t in alert.transitions][-1] == "区中心已处置"
    assert errors == []


def test_the_alert_page_asks_again_after_a_change_that_leaves_the_action_possible(
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
    page, errors = signed_in(browser, live_server, "town", viewport=DESK)
    page.goto(f"{live_server}/alerts/{alert_id}")
    page.locator('#actions button[data-to="false_alarm"]').click()
    note = page.locator("#note-slot textarea[name=note]")
    note.fill("是晾晒的衣物")
    move(client, context, village.county_officer, alert_id, "acknowledged")
    wait_until(page, "document.getElementById('status').textContent === '已确认'")  # live
    assert note.input_value() == "是晾晒的衣物"
    assert page.evaluate("document.activeElement.name") == "note"
    page.locator("#note-slot button[type=submit]").click()
    refusal = page.locator("#note-slot .refusal")
    refusal.wait_for()
    assert refusal.inner_text().startswith("该告警刚被他人更新，现为「已确认」，请核对后再提交。")
    assert note.input_value() == "是晾晒的衣物"
    screenshot(page, "alert-note-changed-1366")
    page.locator("#note-slot button[type=submit]").click()  # decided again: still a false alarm
    wait_until(page, "document.getElementById('status').textContent === '误报'")
    assert "误报" in page.locator("#action-result").inner_text()
    assert page.locator("#note-slot").inner_html() == ""
    with sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and alert.status is AlertStatus.FALSE_ALARM
        assert alert.transitions[-1].note == "是晾晒的衣物"
    assert errors == []


def test_the_alert_page_keeps_an_open_note_when_its_head_is_redrawn(
    live_server: str,
    browser: "sync_api.Browser",
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    phone, errors = signed_in(
        browser, live_server, "gw1", viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone.goto(f"{live_server}/alerts/{alert_id}")
    phone.locator("button[data-arrive]").tap()
    phone.fill("#note-slot textarea[name=note]", "院门口")
    phone.locator('#actions button[data-to="acknowledged"]').tap()
    wait_until(phone, "document.getElementById('status').textContent === '已确认'")
    assert phone.locator("#note-slot textarea[name=note]").input_value() == "院门口"
    phone.locator("#note-slot button[type=submit]").tap()
    phone.locator("#arrived").wait_for()
    assert "已到场 · gw1" in phone.locator("#arrived").inner_text()
    assert "院门口" in phone.locator("#audit .audit-arrival").inner_text()
    assert errors == []


def test_a_dispatched_case_offers_re_dispatch(
    live_server: str,
    browser: "sync_api.Browser",
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    sent = raise_alert(sessions, redis_client, streams)
    seen = raise_alert(sessions, redis_client, streams, title="老人跌倒：另一位")
    for alert_id in (sent, seen):
        move(client, context, village.county_officer, alert_id, "acknowledged")
    move(
        client,
        context,
        village.county_officer,
        sent,
        "dispatched",
        note="派给 杨秀兰",
        assignee_id=staff_id(sessions, "杨秀兰"),
    )
    page, card, errors = dashboard_card(browser, live_server, sent, viewport=DESK)
    assert card.locator('button[data-to="dispatched"]').inner_text() == "改派"
    other = page.locator(f'.alert-card[data-id="{seen}"] button[data-to="dispatched"]')
    assert other.inner_text() == "派单"
    screenshot(page, "dashboard-redispatch-1366")
    page.goto(f"{live_server}/alerts/{sent}")
    assert page.locator('#actions button[data-to="dispatched"]').inner_text() == "改派"
    page.goto(f"{live_server}/alerts/{seen}")
    assert page.locator('#actions button[data-to="dispatched"]').inner_text() == "派单"
    assert errors == []


def test_on_a_phone_an_alert_without_a_snapshot_shows_the_timeline_on_the_first_screen(
    live_server: str,
    browser: "sync_api.Browser",
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)  # no snapshot, no clip
    phone, errors = signed_in(
        browser, live_server, "town", viewport=PHONE, is_mobile=True, has_touch=True
    )
    phone.wait_for_url(f"{live_server}/dashboard")
    phone.goto(f"{live_server}/alerts/{alert_id}")
    screenshot(phone, "alert-no-snapshot-390")
    media = phone.locator("#case-media").bounding_box()
    assert media is not None and media["height"] < 60  # a line, not a 4:3 box
    timeline = phone.locator("#timeline").bounding_box()
    assert timeline is not None and timeline["y"] + 40 < PHONE["height"]

    gaps = set()  # between neighbours in each group of call buttons: side by side, or above
    for group in phone.locator(".case-facts dd:has(a.call)").all():  # guardians, staff
        boxes = [a.bounding_box() for a in group.locator("a.call").all()]
        for one, next_ in pairwise(boxes):
            assert one is not None and next_ is not None
            same_row = abs(one["y"] - next_["y"]) < 1
            gaps.add(
                round(
                    next_["x"] - one["x"] - one["width"]
                    if same_row
                    else next_["y"] - one["y"] - one["height"]
                )
            )
    assert len(gaps) == 1, gaps  # the same everywhere
    assert errors == []
