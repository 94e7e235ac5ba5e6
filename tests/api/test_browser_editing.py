"""Editing the watch lists in the browser (Chromium): a form refuses what the CSV import
refuses, with the same reason beside the cell; a saved change is audited; a grid worker
cannot write outside their grid."""

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.people import Person, WatchlistChange
from records.watchlist_csv import import_csv
from tests.api.browsing import BROWSER_TESTS, browser, screenshot, signed_in, sync_api, wait_until
from tests.api.builders import GRID_1, GRID_2, SITE, Users

__all__ = ["browser"]  # the fixture

pytestmark = BROWSER_TESTS
NEW_PERSON = {
    "code": "P020",
    "name": "赵桂兰",
    "category": "elder",
    "birth_year": "19四〇",
    "risk_level": "3",
    "lives_alone": "是",
    "household_code": "H020",
    "address": "马岩村一组30号",
    "grid_code": GRID_1,
    "site": SITE,
}


def csv_reason(sessions: sessionmaker[Session], row: dict[str, str], column: str) -> str:
    """What the CSV import says about `column` of this row, in Chinese (nothing written)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([list(row), list(row.values())])
    with sessions() as session:
        report = import_csv(session, "persons", buffer.getvalue().encode())
        session.rollback()
    (error,) = [e for e in report.errors if e.column == column]
    return error.reason("zh")


def fill(page: "sync_api.Page", values: dict[str, str]) -> None:
    for name, value in values.items():
        page.fill(f"#edit-row input[name={name}]", value)
    page.click("#edit-row button[type=submit]")


def test_the_edit_form_checks_as_the_csv_import_and_audits(
    live_server: str,
    browser: "sync_api.Browser",
    village: Users,
    sessions: sessionmaker[Session],
) -> None:
    page, errors = signed_in(browser, live_server, "gw1", viewport={"width": 1366, "height": 768})
    page.wait_for_url(f"{live_server}/dashboard")
    page.goto(f"{live_server}/watchlist")
    page.click("text=新增重点人员")
    page.wait_for_url(f"{live_server}/watchlist/edit/persons")
    fill(page, NEW_PERSON)
    refused = page.locator('.field-error[data-for="birth_year"]')
    wait_until(page, "document.querySelector('.field-error[data-for=birth_year]').textContent")
    assert refused.inner_text() == csv_reason(sessions, NEW_PERSON, "birth_year")
    assert refused.inner_text().startswith("须为 1900 到 ")  # the catalogue's Chinese
    screenshot(page, "edit-person-refused-1366")
    with sessions() as session:
        assert session.scalar(select(Person).where(Person.code == "P020")) is None
    fill(page, {"birth_year": "1940", "grid_code": GRID_2})  # another grid: not theirs
    wait_until(page, "document.querySelector('.field-error[data-for=grid_code]').textContent")
    assert page.locator('.field-error[data-for="grid_code"]').inner_text() == "属于您辖区以外的区域"
    fill(page, {"grid_code": GRID_1})
    page.wait_for_url(f"{live_server}/watchlist/edit/persons?key=P020")
    assert page.input_value("#edit-row input[name=name]") == "赵桂兰"
    fill(page, {"name": "赵桂英"})  # a change of the saved record
    wait_until(page, "document.getElementById('toast').textContent === '已保存'")
    with sessions() as session:
        person = session.scalar(select(Person).where(Person.code == "P020"))
        assert person is not None and (person.name, person.birth_year) == ("赵桂英", 1940)
        changes = session.scalars(select(WatchlistChange).order_by(WatchlistChange.id)).all()
    assert [(c.actor, c.kind, c.source, c.created, c.updated) for c in changes] == [
        ("gw1", "persons", "form", 1, 0),
        ("gw1", "persons", "form", 0, 1),
    ]
    assert changes[-1].values["name"] == "赵桂英"
    page.goto(f"{live_server}/watchlist?q=赵桂英")
    assert page.locator("table.grid-table tbody tr").count() == 1
    page.goto(f"{live_server}/watchlist/edit/staff")  # admins only
    page.wait_for_url(f"{live_server}/watchlist")
    assert errors == []
