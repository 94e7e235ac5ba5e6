"""Watch lists through the API: CSV upload with the row report (all or nothing, skip, dry run,
GBK), download, and the JSON lists behind the pages."""

from datetime import date

from fastapi.testclient import TestClient

from alert_api.context import AppContext
from tests.api.builders import Users, bearer

GOOD = (
    "P010,赵大爷,elder,1938,4,是,,,H010,马岩村一组20号,520603100201-01,tongren-bijiang-01,,"
    "cam-home-zhao\n"
)
BAD_GRID = "P011,钱奶奶,elder,1940,2,否,,,H011,马岩村一组21号,520603-nope,,,\n"
BAD_YEAR = "P012,孙爷爷,elder,18xx,2,否,,,H012,马岩村一组22号,520603100201-01,,,\n"
HEADER = (
    "code,name,category,birth_year,risk_level,lives_alone,conditions,notes,household_code,"
    "address,grid_code,site,person_sources,household_sources\n"
)


def upload(
    client: TestClient, headers: dict[str, str], text: str, kind: str = "persons", **form: str
) -> tuple[int, dict[str, object]]:
    response = client.post(
        f"/api/watchlist/{kind}/csv",
        files={"file": (f"{kind}.csv", text.encode("utf-8") if isinstance(text, str) else text)},
        data=form,
        headers=headers,
    )
    return response.status_code, response.json()


def person_codes(client: TestClient, headers: dict[str, str]) -> set[str]:
    return {p["code"] for p in client.get("/api/watchlist/persons", headers=headers).json()}


def test_one_bad_row_and_nothing_is_written(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.admin)
    status, report = upload(client, headers, HEADER + GOOD + BAD_GRID + BAD_YEAR)
    assert status == 422
    assert report["applied"] is False and report["ok"] is False and report["rows"] == 3
    problems = {(e["line"], e["column"], e["value"]) for e in report["errors"]}  # type: ignore[union-attr]
    assert problems == {(3, "grid_code", "520603-nope"), (4, "birth_year", "18xx")}
    assert "P010" not in person_codes(client, headers)


def test_refusals_are_in_chinese_naming_row_and_column_or_in_the_chosen_language(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.admin)
    _, report = upload(client, headers, HEADER + GOOD + BAD_GRID + BAD_YEAR)
    grid, year = report["errors"]  # type: ignore[misc]
    assert (grid["column_label"], grid["key"], grid["message"]) == (
        "网格编号",
        "no_area",
        "没有这个区域（请先导入区域）",
    )
    this_year = date.today().year
    assert (
        year["text"] == f"第 4 行，“出生年份”列：须为 1900 到 {this_year} 的整数（填的是 '18xx'）"
    )
    client.cookies.set("shouwang_lang", "en")
    _, report = upload(client, headers, HEADER + BAD_YEAR)
    (year,) = report["errors"]  # type: ignore[misc]
    assert year["text"] == (
        f"line 2, column birth_year: must be a whole number from 1900 to {this_year} (got '18xx')"
    )


def test_skip_bad_rows_writes_the_good_ones(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.admin)
    status, report = upload(client, headers, HEADER + GOOD + BAD_GRID, skip_bad_rows="true")
    assert status == 200 and report["applied"] is True
    assert (report["created"], report["skipped"], len(report["errors"])) == (1, 1, 1)  # type: ignore[arg-type]
    assert "P010" in person_codes(client, headers)
    coverage = client.get("/api/watchlist/coverage", headers=headers).json()
    assert {"cam-home-zhao"} <= {c["source"] for c in coverage}


def test_dry_run_checks_without_writing(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.grid1_worker)
    status, report = upload(client, headers, HEADER + GOOD, dry_run="true")
    assert status == 200 and report["ok"] is True and report["dry_run"] is True
    assert report["applied"] is False and report["created"] == 1
    assert "P010" not in person_codes(client, headers)
    status, report = upload(client, headers, HEADER + GOOD)
    assert status == 200 and report["applied"] is True
    assert "P010" in person_codes(client, headers)


def test_gbk_files_with_chinese_headers_round_trip(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.admin)
    exported = client.get(
        "/api/watchlist/guardians/csv", params={"encoding": "gbk", "headers": "zh"}, headers=headers
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=gb18030"
    text = exported.content.decode("gb18030")
    assert text.startswith("人员编号,监护人姓名") and "王丽" in text
    changed = text.replace("女儿", "大女儿").encode("gb18030")
    status, report = upload(client, headers, changed, kind="guardians")  # type: ignore[arg-type]
    assert status == 200 and report["encoding"] == "gbk" and report["updated"] == 4
    guardians = client.get("/api/watchlist/guardians", headers=headers).json()
    wards = {w["relation"] for g in guardians for w in g["wards"]}
    assert "大女儿" in wards


def test_files_that_are_not_csv_get_a_report(
    client: TestClient, context: AppContext, village: Users
) -> None:
    headers = bearer(context, village.admin)
    status, report = upload(client, headers, "code\x00,name\n")
    assert status == 422 and "NUL" in report["errors"][0]["message"]  # type: ignore[index]
    status, report = upload(client, headers, "")
    assert status == 422 and report["errors"][0]["line"] == 1  # type: ignore[index]
    status, report = upload(client, headers, "nonsense,columns\n1,2\n")
    assert status == 422 and report["errors"][0]["column"] == "nonsense"  # type: ignore[index]
    too_big = "x" * (context.settings.api.csv_max_bytes + 1)
    response = client.post(
        "/api/watchlist/persons/csv", files={"file": ("big.csv", too_big.encode())}, headers=headers
    )
    assert response.status_code == 413


def test_only_admins_handle_areas_sites_and_staff(
    client: TestClient, context: AppContext, village: Users
) -> None:
    officer = bearer(context, village.county_officer)
    for kind in ("areas", "sites", "staff"):
        assert client.get(f"/api/watchlist/{kind}/csv", headers=officer).status_code == 403
        status, _ = upload(client, officer, "code,name\n", kind=kind)
        assert status == 403
    admin = bearer(context, village.admin)
    staff = client.get("/api/watchlist/staff/csv", headers=admin)
    assert staff.status_code == 200 and "gw-001" in staff.content.decode("utf-8-sig")


def test_lists_behind_the_pages(client: TestClient, context: AppContext, village: Users) -> None:
    headers = bearer(context, village.town_officer)
    persons = client.get("/api/watchlist/persons", params={"q": "王"}, headers=headers).json()
    assert [p["code"] for p in persons] == ["P001"]
    wang = persons[0]
    assert wang["lives_alone"] is True and wang["risk_level"] == 3
    assert {g["phone"] for g in wang["guardians"]} == {"13900000001", "13900000002"}
    assert {s["source"] for s in wang["sources"]} == {
        "sos-wang",
        "cam-home-wang",
        "smoke-wang",
        "door-wang",
        "motion-wang",
        "leak-wang",
        "temp-wang",
    }
    children = client.get(
        "/api/watchlist/persons", params={"category": "child"}, headers=headers
    ).json()
    assert [p["code"] for p in children] == ["P002"]
    households = client.get("/api/watchlist/households", headers=headers).json()
    assert {h["code"]: len(h["persons"]) for h in households} == {"H001": 1, "H002": 2}
    guardians = client.get("/api/watchlist/guardians", headers=headers).json()
    li_hong = next(g for g in guardians if g["phone"] == "13900000003")
    assert {w["code"] for w in li_hong["wards"]} == {"P002", "P003"} and li_hong["has_account"]
