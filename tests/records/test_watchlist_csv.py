"""CSV import and export of the watch list and the records around it."""

import string

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from records.people import Area, Coverage, Guardian, Guardianship, Household, Person, Staff
from records.refusals import MESSAGES
from records.types import AreaLevel, Category, SourceKind, StaffRole
from records.watchlist_csv import ImportReport, export_csv, import_csv
from tests.records.village import SITE, example_file, import_village

PERSONS_HEADER = (
    "code,name,category,birth_year,risk_level,lives_alone,conditions,household_code,address,"
    "grid_code,site,person_sources,household_sources\n"
)


def _import(
    sessions: sessionmaker[Session], kind: str, data: bytes, **options: object
) -> ImportReport:
    with sessions.begin() as session:
        return import_csv(session, kind, data, **options)  # type: ignore[arg-type]


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_example_village_imports_with_everything_in_place(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    with sessions() as session:
        wang = session.scalars(select(Person).where(Person.code == "P001")).one()
        assert (wang.name, wang.category, wang.birth_year) == ("王秀英", Category.ELDER, 1941)
        assert (wang.risk_level, wang.lives_alone) == (3, True)
        assert wang.conditions == ["高血压", "行动不便"]
        assert wang.household.address == "马岩村一组12号"
        assert wang.household.area.level is AreaLevel.GRID
        assert wang.household.area.parent is not None
        assert wang.household.area.parent.code == "520603100201"
        covers = {
            (c.source_kind, c.source, c.person_id is not None)
            for c in session.scalars(select(Coverage).where(Coverage.site == SITE))
        }
        assert (SourceKind.SENSOR, "sos-wang", True) in covers
        assert (SourceKind.CAMERA, "cam-home-wang", False) in covers
        # One guardian record per phone, however many wards.
        li_hong = session.scalars(select(Guardian).where(Guardian.phone == "13900000003")).one()
        assert len(li_hong.guardianships) == 2
        assert li_hong.channels == ["webpush"]
        duty = session.scalars(select(Staff).where(Staff.code == "duty-town-01")).one()
        assert (duty.role, duty.phone) == (StaffRole.DUTY_OFFICER, "08565000001")


def test_gbk_file_imports_like_utf8(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    text = example_file("persons").read_text(encoding="utf-8").replace("P00", "G00")
    text = text.replace("H00", "GH00")
    report = _import(sessions, "persons", text.encode("gbk"))
    assert report.ok and report.applied and report.encoding == "gbk"
    assert report.created == 3
    forced = _import(sessions, "persons", text.encode("gbk"), encoding="gbk")
    assert forced.ok and forced.updated == 3
    with sessions() as session:
        names = set(session.scalars(select(Person.name).where(Person.code.like("G%"))))
        addresses = set(session.scalars(select(Household.address).where(Household.code.like("G%"))))
    assert names == {"王秀英", "李小明", "李德富"}
    assert addresses == {"马岩村一组12号", "马岩村二组3号"}


def test_utf8_with_bom_and_chinese_headers(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    data = "\ufeff人员编号,姓名,电话,关系\nP002,李军,139 0000 0009,父亲\n".encode()
    report = _import(sessions, "guardians", data)
    assert report.ok and report.created == 1 and report.encoding == "utf-8"
    with sessions() as session:
        assert session.scalars(select(Guardian.name).where(Guardian.phone == "13900000009")).one()


def test_bad_rows_are_all_reported_and_nothing_is_written(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    before = _count(sessions, Person)
    data = (
        PERSONS_HEADER
        + "N1,赵一,老人,1950,2,是,,H9,一组,520603100201-01,,,\n"  # good
        + "N2,赵二,大人,1950,2,是,,H9,一组,520603100201-01,,,\n"  # category
        + "N3,,child,2030,5,maybe,,H9,一组,520603100201-01,,,\n"  # name, year, risk, flag
        + "N1,赵四,elder,,,,,H10,二组,nowhere,,,\n"  # duplicate code, unknown grid
        + "N5,赵五,elder,,,,,H9,三组,520603100201-02,,,\n"  # household elsewhere
        + "N6,赵六,elder,,,,,H11,一组,520603100201-01,,cam 1,\n"  # bad source, no site
        + "\n"
        + "N7,赵七,elder,,,,,H12,一组,520603100201-01,s1,cam-1#gate; sensor:x#y,\n"  # zone
    ).encode()
    report = _import(sessions, "persons", data)
    assert not report.applied and report.rows == 7
    problems = {(e.line, e.column) for e in report.errors}
    assert problems == {
        (3, "category"),
        (4, "name"),
        (4, "birth_year"),
        (4, "risk_level"),
        (4, "lives_alone"),
        (5, "code"),
        (5, "grid_code"),
        (6, "grid_code"),
        (6, "address"),
        (7, "person_sources"),
        (9, "person_sources"),
    }
    assert _count(sessions, Person) == before
    messages = "\n".join(str(e) for e in report.errors)
    assert "line 5, column code: already on line 2" in messages
    assert "household H9 is in 520603100201-01 on line 2" in messages
    assert "only cameras have zones" in messages

    skipped = _import(sessions, "persons", data, skip_bad_rows=True)
    assert skipped.applied and skipped.created == 1 and skipped.skipped == 6
    assert _count(sessions, Person) == before + 1


def test_header_problems_stop_the_import(sessions: sessionmaker[Session]) -> None:
    report = _import(sessions, "persons", b"code,name,colour\nP1,x,red\n")
    assert not report.applied
    assert {(e.line, e.column) for e in report.errors} == {
        (1, "colour"),
        (1, "category"),
        (1, "household_code"),
        (1, "grid_code"),
    }
    assert _import(sessions, "persons", b"").errors[0].message.startswith("the file is empty")
    assert (
        "neither UTF-8 nor GBK" in _import(sessions, "areas", b"\x81\xff\xfe,a\n").errors[0].message
    )
    assert "unknown kind" in _import(sessions, "pets", b"a\n").errors[0].message


def test_areas_need_their_parents_first(sessions: sessionmaker[Session]) -> None:
    data = (
        "code,name,level,parent_code\n"
        "C1,县,county,\n"
        "G1,网格,grid,V1\n"  # parent not yet defined
        "V1,村,村,T9\n"  # unknown parent
        "T1,镇,镇,C1\n"
        "V2,村,village,T1\n"
        "T2,镇,town,V2\n"  # a village cannot contain a town
        "C2,县,county,C1\n"  # a county has no parent
    ).encode()
    report = _import(sessions, "areas", data)
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "parent_code"),
        (4, "parent_code"),
        (7, "parent_code"),
        (8, "parent_code"),
    ]
    assert _count(sessions, Area) == 0


def test_guardian_rows_are_checked(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    data = (
        "person_code,name,phone,relation,channels\n"
        "P404,某人,13900000010,,\n"
        "P001,王丽,13900000001,女儿,\n"  # already known: keeps her channels
        "P001,王丽,13900000001,女儿,\n"
        "P002,王丽丽,13900000001,姑姑,\n"  # same phone, another name
        "P002,张三,abc,,mail\n"
    ).encode()
    report = _import(sessions, "guardians", data)
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "person_code"),
        (4, "phone"),
        (5, "name"),
        (6, "phone"),
        (6, "channels"),
    ]
    good = _import(sessions, "guardians", data, skip_bad_rows=True)
    assert good.applied and good.updated == 1
    with sessions() as session:
        wang_li = session.scalars(select(Guardian).where(Guardian.phone == "13900000001")).one()
        assert wang_li.channels == ["webpush", "dingtalk://example-token-2"]


def test_export_reimports_unchanged_in_both_encodings_and_languages(
    sessions: sessionmaker[Session],
) -> None:
    import_village(sessions)
    for kind in ("areas", "sites", "staff", "persons", "guardians", "cameras", "devices"):
        with sessions() as session:
            exported = export_csv(session, kind)
            gbk = export_csv(session, kind, encoding="gbk", headers="zh")
        assert exported.startswith(b"\xef\xbb\xbf")
        for data in (exported, gbk):
            report = _import(sessions, kind, data)
            assert report.ok and report.applied and report.created == 0, report.errors
        with sessions() as session:
            assert export_csv(session, kind) == exported
    with sessions() as session:
        persons = export_csv(session, "persons", encoding="utf-8")
    assert "P001,王秀英,elder,1941,3,yes,高血压; 行动不便" in persons.decode()
    assert "sensor:sos-wang,cam-home-wang; sensor:door-wang; sensor:leak-wang" in persons.decode()


def test_sources_in_the_file_replace_coverage(sessions: sessionmaker[Session]) -> None:
    import_village(sessions)
    data = (
        PERSONS_HEADER
        + f"P001,王秀英,elder,1941,3,yes,,H001,,520603100201-01,{SITE},"
        + "sensor:sos-wang-2,other-site/cam-9#door\n"
    ).encode()
    assert _import(sessions, "persons", data).ok
    with sessions() as session:
        wang = session.scalars(select(Person).where(Person.code == "P001")).one()
        rows = session.scalars(
            select(Coverage).where(
                (Coverage.person_id == wang.id) | (Coverage.household_id == wang.household_id)
            )
        ).all()
        assert {(c.site, c.source, c.zone) for c in rows} == {
            (SITE, "sos-wang-2", None),
            ("other-site", "cam-9", "door"),
        }
        assert wang.household.address == "马岩村一组12号"  # an empty cell keeps it
        assert session.scalar(select(func.count()).select_from(Guardianship)) == 4


def test_cameras_import_suggests_the_site_and_never_exports_passwords(
    sessions: sessionmaker[Session],
) -> None:
    from records.cameras import CameraDevice

    import_village(sessions)
    with sessions() as session:
        rows = {d.code: d for d in session.scalars(select(CameraDevice))}
    nvr, pond, road, home = (rows[c] for c in sorted(rows))
    assert (nvr.password, nvr.camera) == ("change-me", None)
    assert (pond.camera, pond.device, pond.name) == ("cam-pond", nvr.code, "村口池塘")
    assert (home.camera, home.name) == ("cam-home-wang", "王秀英家堂屋")  # a name for the pages
    # No site given: the code's division prefix (520603 10) matches only this site's area.
    assert road.site == SITE
    with sessions() as session:
        exported = export_csv(session, "cameras").decode("utf-8")
    assert "change-me" not in exported and "cam-school-road" in exported
    bad = "国标编码,站点编号\n5206031000132000000X,\n".encode()
    report = _import(sessions, "cameras", bad)
    assert not report.ok and "20-digit" in str(report.errors[0])


def test_every_refusal_is_in_chinese_and_english_with_the_same_fields() -> None:
    fields = {
        key: {
            lang: {f for _, f, _, _ in string.Formatter().parse(text) if f}
            for lang, text in texts.items()
        }
        for key, texts in MESSAGES.items()
    }
    assert {key for key, texts in MESSAGES.items() if list(texts) != ["zh", "en"]} == set()
    assert {key for key, by in fields.items() if by["zh"] != by["en"]} == set()


def test_a_refused_row_names_its_line_and_column_in_chinese(
    sessions: sessionmaker[Session],
) -> None:
    import_village(sessions)
    row = "P030,周奶奶,elder,1942,9,否,,H030,马岩村一组40号,520603100201-01,,,\n"
    (error,) = _import(sessions, "persons", (PERSONS_HEADER + row).encode()).errors
    assert error.text("zh", "风险等级") == "第 2 行，“风险等级”列：须在 1 到 4 之间（填的是 '9'）"
    assert str(error) == "line 2, column risk_level: must be from 1 to 4 (got '9')"
