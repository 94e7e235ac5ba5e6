"""Every page renders for the roles that use it, in Chinese and in English; guardians are sent
to their phone page."""

import re

import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from tests.api.builders import Users, cookie_session, raise_alert

STAFF_PAGES = (
    "/dashboard",
    "/stats",
    "/watchlist",
    "/watchlist/households",
    "/watchlist/guardians",
    "/watchlist/coverage",
    "/watchlist/import",
    "/guardian",
)


def sign_in(client: TestClient, context: AppContext, user: int) -> None:
    token, _ = cookie_session(context, user)
    client.cookies.set("shouwang_session", token)


def test_staff_pages_in_both_languages(
    client: TestClient,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    alert_id = raise_alert(sessions, redis_client, streams)
    sign_in(client, context, village.grid1_worker)
    for path in (*STAFF_PAGES, f"/alerts/{alert_id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert '<html lang="zh-CN">' in page.text, path
    assert "王秀英" in client.get("/watchlist").text
    assert "李小明" not in client.get("/watchlist").text  # another grid
    assert client.get("/users", follow_redirects=False).status_code == 303  # admins only
    switched = client.get("/lang/en?next=/watchlist", follow_redirects=False)
    assert switched.headers["location"] == "/watchlist"
    client.cookies.set("shouwang_lang", "en")
    english = client.get("/dashboard")
    assert '<html lang="en">' in english.text and "Watch lists" in english.text
    assert (
        client.get(f"/guardian/alerts/{alert_id}", follow_redirects=False).headers["location"]
        == f"/alerts/{alert_id}"
    )


def test_admin_pages(client: TestClient, context: AppContext, village: Users) -> None:
    sign_in(client, context, village.admin)
    users = client.get("/users")
    assert users.status_code == 200 and "duty-town-01" in users.text
    assert 'value="areas"' in client.get("/watchlist/import").text  # every kind for admins


def test_guardians_land_on_their_phone_page(
    client: TestClient, context: AppContext, village: Users
) -> None:
    sign_in(client, context, village.li_hong)
    for path in STAFF_PAGES[:-1]:
        response = client.get(path, follow_redirects=False)
        assert response.headers["location"] == "/guardian", path
    page = client.get("/guardian")
    assert "李小明" in page.text and "李德富" in page.text and "王秀英" not in page.text
    assert 'rel="manifest"' in page.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/guardian"


def area_options(page: str) -> list[str]:
    """The labels of a page's area filter, in order (the first is 全部)."""
    select = re.search(r'<select name="area_id">(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(r"<option [^>]*>([^<]*)</option>", select.group(1))


def test_the_statistics_page(client: TestClient, context: AppContext, village: Users) -> None:
    signed_out = client.get("/stats", follow_redirects=False)
    assert signed_out.headers["location"] == "/login?next=/stats"
    sign_in(client, context, village.town_officer)
    page = client.get("/stats")
    assert page.status_code == 200
    assert '<a href="/stats" class="on">统计</a>' in page.text  # in the header, current
    assert 'id="stats-csv" href="/api/stats/csv' in page.text
    assert '<option value="day">日期</option>' in page.text and "1-3-5" in page.text
    town_areas = [
        "全部",
        "碧江区 · 灯塔街道",
        "灯塔街道 · 马岩村",
        "马岩村 · 第一网格",
        "马岩村 · 第二网格",
    ]
    assert area_options(page.text) == town_areas  # the officer's town and below, nested
    assert area_options(client.get("/dashboard").text) == town_areas
    assert '<h2><a href="/stats">统计（近7天）</a></h2>' in client.get("/dashboard").text
    client.cookies.set("shouwang_lang", "en")
    assert '<option value="town">Town</option>' in client.get("/stats").text
    sign_in(client, context, village.grid2_worker)
    assert area_options(client.get("/stats").text) == ["All", "马岩村 · 第二网格"]
