"""Every page as every role, in Chromium: on a phone (390×844) no header item wraps to one
character per line and nothing is wider than the screen; the guardian signs in with 手机号; in
Chinese no page shows a catalogue key, and the alert pages name sites, cameras, zones,
sensors, persons, rules and phases in words rather than ids (names from the records, or as the
edge and the sensor bridge sent them)."""

import re

import pytest
import redis
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from records.types import Severity
from tests.api.browsing import BROWSER_TESTS, browser, screenshot, sign_in, sync_api
from tests.api.builders import Users, raise_alert

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS
STAFF_PAGES = (
    "/dashboard",
    "/stats",
    "/watchlist",
    "/watchlist/households",
    "/watchlist/guardians",
    "/watchlist/coverage",
    "/watchlist/import",
    "/watchlist/edit/persons?key=P001",
    "/watchlist/edit/guardians",
    "/alerts/{alert}",
    "/alerts/{yard}",
    "/guardian",
)
PAGES = {
    "admin": (*STAFF_PAGES, "/users"),
    "town": STAFF_PAGES,
    "gw1": STAFF_PAGES,
    "13900000001": ("/guardian", "/alerts/{alert}", "/alerts/{yard}"),
}
"""The pages of each role: an administrator, a town's duty officer, a grid worker, a
guardian."""

WRAPPED = """() => [...document.querySelectorAll('.topbar a, .topbar button, .topbar .who, th')]
  .filter((item) => {
    if (item.offsetParent === null) return false;
    const range = document.createRange();
    range.selectNodeContents(item);
    const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
    return lines.size > 1;
  })
  .map((item) => item.textContent.trim())"""
"""Header items and column heads taller than one line (a wrapped word)."""


@pytest.mark.parametrize("login", list(PAGES))
def test_every_page_on_a_phone(
    login: str,
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert = raise_alert(
        sessions, redis_client, streams, snapshot_dir=context.settings.api.snapshot_dir
    )
    yard = raise_named_alerts(sessions, redis_client, streams)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    if login.isdigit():
        page.goto(f"{live_server}/guardian")
        page.wait_for_url(re.compile(r"/login\?next=/guardian$"))
        assert (
            page.locator("label", has=page.locator("input[name=login]")).inner_text().strip()
            == "手机号"
        )
        assert page.get_attribute("input[name=login]", "inputmode") == "tel"
    sign_in(page, live_server, login)
    page.wait_for_load_state("networkidle")
    for path in PAGES[login]:
        page.goto(live_server + path.format(alert=alert, yard=yard))
        page.wait_for_load_state("networkidle")
        assert page.evaluate(WRAPPED) == [], f"{login} {path}: a header item or column head wraps"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{login} {path}: the page is {width} px wide"
        name = path.strip("/").replace("/", "-").replace("{alert}", "id").split("?")[0]
        name = name.replace("{yard}", "yard")
        screenshot(page, f"phone-{login}-{name}")
    assert errors == []
    phone.close()


KEY = re.compile(
    r"\b(?:alert|action|actor|audit|camera|category|filter|g|health|login|nav|origin|phase"
    r"|role|severity|sound|stats|status|type|users|wl|csv|kind|edit)\.[a-z_]+\b"
)
"""A catalogue key shown instead of its text."""
RAW = (
    "tongren-bijiang-01",
    "cam-home-wang",
    "cam-yard",
    "yard",
    "P001",
    "motion-wang",
    "elder_fall",
    "raised by rule",
    "rules",
)
"""Ids and machine words the alert pages must say in words (site, camera, zone, person and
sensor names, the rule, the audit entry of the rules engine)."""


def raise_named_alerts(
    sessions: sessionmaker[Session], redis_client: redis.Redis, streams: OutputStreams
) -> int:
    """Besides the fall: alerts whose sources only the events named (a camera and zone of the
    edge config, no activity of a person, a sensor); returns the yard camera's alert."""
    yard = raise_alert(
        sessions,
        redis_client,
        streams,
        severity=Severity.MEDIUM,
        type_="loitering",
        title="有人在门口逗留：马岩村一组12号",
        source=("event", "cam-yard", "yard"),
        details={"source_name": "王秀英家院子", "zone_name": "院门口"},
    )
    raise_alert(
        sessions,
        redis_client,
        streams,
        severity=Severity.HIGH,
        type_="no_activity",
        title="王秀英上午没有活动",
        source=("absence", "P001", None),
        details={"source_name": "王秀英"},
    )
    raise_alert(
        sessions,
        redis_client,
        streams,
        severity=Severity.LOW,
        type_="battery_low",
        title="请更换传感器电池（卧室）",
        source=("health", "motion-wang", None),
        details={"source_name": "卧室", "battery_pct": 12},
    )
    return yard


MACHINE_WORDS = re.compile(r"\b(?:start|update|end|online|offline|starting|critical|high)\b")


@pytest.mark.parametrize("login", list(PAGES))
def test_every_page_in_chinese_shows_words_not_keys_or_ids(
    login: str,
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert = raise_alert(sessions, redis_client, streams)
    yard = raise_named_alerts(sessions, redis_client, streams)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    sign_in(page, live_server, login)
    page.wait_for_load_state("networkidle")
    for path in PAGES[login]:
        page.goto(live_server + path.format(alert=alert, yard=yard))
        page.wait_for_load_state("networkidle")
        if path == "/alerts/{alert}":
            shown = page.locator("main").inner_text()
            page.locator('[data-tab="audit"]').click()
            shown += page.locator("#audit").inner_text()
            for words in ("王秀英家堂屋", "跌倒 · 开始", "系统", "按规则自动生成告警", "危急"):
                assert words in shown, f"{login}: {words!r} not on the alert page"
        elif path == "/alerts/{yard}":
            shown = page.locator("main").inner_text()
            assert "王秀英家院子 · 区域 院门口" in shown, f"{login}: the yard alert's place"
        else:
            shown = page.locator("body").inner_text()
        assert KEY.findall(shown) == [], f"{login} {path}: untranslated keys"
        if path in ("/dashboard", "/alerts/{alert}", "/alerts/{yard}", "/guardian"):
            assert [raw for raw in RAW if raw in shown] == [], f"{login} {path}: raw ids"
            assert MACHINE_WORDS.findall(shown) == [], f"{login} {path}: machine words"
    page.close()
