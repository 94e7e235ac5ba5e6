"""The statistics page in Chromium: the duty officer sees the 1-3-5 figures that
`/api/stats` computes, and the grouping and the area they choose go into the page's address
and the CSV link."""

import re

import redis
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from tests.api.browsing import BROWSER_TESTS, browser, screenshot, signed_in, sync_api, wait_until
from tests.api.builders import GRID_2, Users
from tests.api.test_statistics import build_history

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def figure(page: "sync_api.Page", field: str) -> str:
    return page.inner_text(f'#stats-totals [data-field="{field}"] strong')


def test_the_duty_officer_reads_the_1_3_5_figures_and_groups_by_day(
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    build_history(sessions, redis_client, streams)
    page, errors = signed_in(browser, live_server, "town")
    page.wait_for_url(f"{live_server}/dashboard")
    page.click('.topbar nav a[href="/stats"]')
    page.wait_for_url(f"{live_server}/stats")
    wait_until(page, "document.querySelector('#stats-table').dataset.groupBy === 'grid'")
    totals = page.request.get(f"{live_server}/api/stats?group_by=grid").json()["totals"]
    assert totals["urgent"] == 4  # the history's known answers, as on the page
    assert figure(page, "count") == str(totals["count"])
    assert figure(page, "ack_within_1m") == f"{round(totals['ack_within_1m'] * 100)}%" == "75%"
    assert figure(page, "on_site_within_3m") == "25%"
    assert figure(page, "on_site_within_5m") == "50%"
    assert figure(page, "arrival_median_s") == "3分钟"
    heads = page.eval_on_selector_all(
        "#stats-table thead th", "(cells) => cells.map((c) => c.textContent)"
    )
    assert heads[:3] == ["网格", "告警数", "紧急告警数"]
    assert page.inner_text("#stats-table tfoot th") == "合计"
    page.select_option("select[name=group_by]", "day")
    page.wait_for_url(re.compile(r"/stats\?group_by=day$"))
    wait_until(page, "document.querySelector('#stats-table').dataset.groupBy === 'day'")
    days = page.eval_on_selector_all("#stats-table tbody tr", "(rows) => rows.length")
    assert days == len(page.request.get(f"{live_server}/api/stats?group_by=day").json()["groups"])
    assert "group_by=day" in (page.get_attribute("#stats-csv", "href") or "")
    page.reload()
    assert page.input_value("select[name=group_by]") == "day"  # kept in the address
    screenshot(page, "stats-by-day")
    assert errors == []


def test_the_statistics_of_one_area_in_the_address_and_the_csv(
    live_server: str,
    browser: "sync_api.Browser",
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    build_history(sessions, redis_client, streams)
    areas = {a.code: a.id for a in context.areas.all().values()}
    for name, viewport in (("desk", DESK), ("phone", PHONE)):
        page, errors = signed_in(browser, live_server, "town", viewport=viewport)
        page.goto(f"{live_server}/stats")
        wait_until(page, "document.querySelectorAll('#stats-table tbody tr').length === 2")
        page.select_option("select[name=area_id]", label="马岩村 · 第二网格")
        page.wait_for_url(re.compile(rf"area_id={areas[GRID_2]}"))
        wait_until(page, "document.querySelectorAll('#stats-table tbody tr').length === 1")
        assert page.inner_text("#stats-table tbody td") == "马岩村第二网格"
        assert figure(page, "count") == "2"  # grid 2's alerts only
        assert f"area_id={areas[GRID_2]}" in (page.get_attribute("#stats-csv", "href") or "")
        page.reload()
        assert page.input_value("select[name=area_id]") == str(areas[GRID_2])
        wait_until(page, "document.querySelectorAll('#stats-table tbody tr').length === 1")
        screenshot(page, f"stats-one-area-{name}")
        assert errors == []
