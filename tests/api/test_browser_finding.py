"""Finding things, in Chromium: search by name, address or a guardian's phone; the
dashboard's filters kept in the address; an invite link with a copy button and a QR code."""

import re

import redis
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from records.types import Severity
from tests.api.browsing import BROWSER_TESTS, browser, screenshot, signed_in, sync_api, wait_until
from tests.api.builders import Users, raise_alert

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS


def names(page: "sync_api.Page") -> list[str]:
    return page.eval_on_selector_all(
        "table.grid-table tbody tr", "(rows) => rows.map((r) => r.cells[1].textContent.trim())"
    )


def test_search_filters_in_the_address_and_invites(
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    raise_alert(sessions, redis_client, streams)
    loitering = raise_alert(
        sessions, redis_client, streams, severity=Severity.HIGH, type_="loitering", title="逗留"
    )
    web = browser.new_context(viewport={"width": 1366, "height": 768})
    web.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page, errors = signed_in(web, live_server, "admin")
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/watchlist")
    everyone = names(page)
    assert len(everyone) >= 3
    for query, found in (("13900000003", {"李小明", "李德富"}), ("二组3号", {"李小明", "李德富"})):
        page.fill("form.search input[name=q]", query)
        page.click("form.search button[type=submit]")
        page.wait_for_url(re.compile(r"\?q="))
        assert set(names(page)) == found, query  # by a guardian's phone, by the address
    page.goto(f"{live_server}/watchlist/guardians?q=王秀英")  # by a ward's name
    assert set(names(page)) == {"13900000001", "13900000002"}  # phone is the second column
    page.goto(f"{live_server}/watchlist/guardians?q=13900000001")
    page.click("button.invite")
    page.wait_for_selector("img.invite-qr")
    wait_until(page, "document.querySelector('img.invite-qr').naturalWidth > 0")
    link = page.input_value("input.invite-link")
    assert re.fullmatch(rf"{live_server}/join/[\w-]+", link)
    page.click("output button.copy")
    wait_until(page, "!document.getElementById('toast').hidden")
    assert page.evaluate("navigator.clipboard.readText()") == link
    screenshot(page, "guardians-invite-qr-1366")
    page.goto(f"{live_server}/dashboard")
    page.wait_for_selector("#live.on")
    page.select_option("select[name=severity]", "high")
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(r"severity=high"))
    page.reload()  # the filter survives a reload
    page.wait_for_selector(f'.alert-card[data-id="{loitering}"]')
    assert page.input_value("select[name=severity]") == "high"
    assert page.locator(".alert-card").count() == 1
    assert errors == []
    web.close()
