"""Watch-list CSV files through the API: download (only the rows of the viewer's areas for
staff) and upload with the row report. Admins handle every kind; duty officers and grid
workers handle persons and guardians of their own areas and the sensor devices of the sites
serving them, and an upload touching any other area is refused as a whole."""

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from alert_api.context import AppContext
from alert_api.i18n import Language, chosen_language
from alert_api.viewer import Context, StaffViewer, Viewer
from records.people import Area, Household, Person, Site, WatchlistChange
from records.queries import area_subtree_ids
from records.watchlist_csv import KINDS, ImportReport, RowError, column_label, import_csv
from records.watchlist_csv.encoding import EncodingError, decode, encode

router = APIRouter(prefix="/api/watchlist", tags=["watch lists"])

Kind = Literal["areas", "sites", "staff", "persons", "guardians", "devices"]
SCOPED_KINDS = frozenset({"persons", "guardians", "devices"})
"""Kinds staff may upload and download for their own areas (the others are admins' only)."""


class RowErrorOut(BaseModel):
    """A refused row (line 1 is the header; 0 means the whole file), in the viewer's language
    (the language switch's cookie, else the deployment's default: Chinese)."""

    line: int
    column: str | None = Field(description="The column's name, as in the English header.")
    column_label: str | None = Field(description="The column's header in the language.")
    key: str = Field(description="The reason's key in the refusal catalogue (records.refusals).")
    message: str = Field(description="The reason.")
    text: str = Field(description="Row, column, reason and value in one sentence.")
    value: str | None


class ImportReportOut(BaseModel):
    """What an upload did. Without `skip_bad_rows`, one bad row means nothing was written."""

    kind: str
    encoding: str
    rows: int
    created: int
    updated: int
    skipped: int
    applied: bool
    dry_run: bool
    ok: bool
    errors: list[RowErrorOut]


def _allowed(viewer: Viewer, kind: str) -> None:
    if not viewer.scope.everything and kind not in SCOPED_KINDS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only admins handle {kind} files")


def _dialect(text: str) -> type[csv.Dialect]:
    first = text.split("\n", 1)[0]
    return csv.excel_tab if "\t" in first and "," not in first else csv.excel


def _area_of_person(session: Session) -> dict[str, int]:
    return dict(
        session.execute(
            select(Person.code, Household.area_id).join(
                Household, Person.household_id == Household.id
            )
        ).all()
    )


def sites_serving(session: Session, viewer: Viewer) -> set[str]:
    """Codes of the sites whose area holds one of the viewer's areas (a grid worker's village
    site serves their grid)."""
    codes = set()
    for code, area_id in session.execute(select(Site.code, Site.area_id)):
        if area_id is not None and area_subtree_ids(session, [area_id]) & viewer.scope.area_ids:
            codes.add(code)
    return codes


def out_of_scope(session: Session, viewer: Viewer, kind: str, text: str) -> list[RowError]:
    """Rows of an upload that would touch records outside the viewer's areas."""
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    accepted = KINDS[kind].header_names()
    header = next(reader, None) or []
    names = [accepted.get(cell.strip().lstrip("\ufeff").lower(), "") for cell in header]
    if kind == "devices":
        return _devices_out_of_scope(session, viewer, names, reader)
    areas = dict(session.execute(select(Area.code, Area.id)).all())
    persons = _area_of_person(session)
    households = dict(session.execute(select(Household.code, Household.area_id)).all())
    checks = {
        "persons": (("grid_code", areas), ("code", persons), ("household_code", households)),
        "guardians": (("person_code", persons),),
    }[kind]
    errors = []
    for row in reader:
        cells = {name: value.strip() for name, value in zip(names, row, strict=False) if name}
        for column, area_by_code in checks:
            value = cells.get(column, "")
            area_id = area_by_code.get(value)
            if area_id is not None and not viewer.scope.sees_area(area_id):
                errors.append(RowError(reader.line_num, column, "out_of_area", value))
    return errors


def _devices_out_of_scope(
    session: Session, viewer: Viewer, names: list[str], reader: Any
) -> list[RowError]:
    serving = sites_serving(session, viewer)
    errors = []
    for row in reader:
        cells = {name: value.strip() for name, value in zip(names, row, strict=False) if name}
        site = cells.get("site", "")
        if site and site not in serving:
            errors.append(RowError(reader.line_num, "site", "site_out_of_area", site))
    return errors


def _report(report: ImportReport, dry_run: bool, language: Language) -> JSONResponse:
    errors = []
    for error in report.errors:
        label = column_label(report.kind, error.column, language) if error.column else None
        errors.append(
            RowErrorOut(
                line=error.line,
                column=error.column,
                column_label=label,
                key=error.key,
                message=error.reason(language),
                text=error.text(language, label),
                value=error.value,
            )
        )
    body = ImportReportOut(
        **{
            **report.as_dict(),
            "applied": report.applied and not dry_run,
            "dry_run": dry_run,
            "errors": errors,
        }
    )
    return JSONResponse(body.model_dump(), status_code=200 if report.applied else 422)


def _language(request: Request, context: AppContext) -> Language:
    return chosen_language(request.cookies, context.settings.api.default_language)


@router.post(
    "/{kind}/csv",
    response_model=ImportReportOut,
    responses={422: {"model": ImportReportOut}, 413: {"description": "File too large."}},
)
def upload_csv(
    request: Request,
    context: Context,
    viewer: StaffViewer,
    kind: Kind,
    file: Annotated[UploadFile, File(description="CSV file, UTF-8 (with or without BOM) or GBK.")],
    encoding: Annotated[Literal["auto", "utf-8", "gbk"], Form()] = "auto",
    skip_bad_rows: Annotated[bool, Form(description="Write the good rows anyway.")] = False,
    dry_run: Annotated[bool, Form(description="Check only; write nothing.")] = False,
) -> JSONResponse:
    """Import a watch-list file (see docs/rules.md for the columns). The report lists every
    refused row with line, column, value and reason; HTTP 422 when nothing was written."""
    _allowed(viewer, kind)
    limit = context.settings.api.csv_max_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"files up to {limit} bytes")
    report = ImportReport(kind)
    if b"\x00" in data:
        report.errors.append(RowError(0, None, "nul_bytes"))
        return _report(report, dry_run, _language(request, context))
    audit = {"name": file.filename or ""}
    return _report(
        _apply(context, viewer, kind, data, encoding, skip_bad_rows, dry_run, "csv", audit),
        dry_run,
        _language(request, context),
    )


class RowIn(BaseModel):
    """One row of a watch list as a browser form sends it: cells by column name (the CSV
    file's English header names); columns left out are left as they are."""

    values: dict[str, str]


@router.post(
    "/{kind}/rows",
    response_model=ImportReportOut,
    responses={422: {"model": ImportReportOut}},
)
def post_row(
    request: Request, context: Context, viewer: StaffViewer, kind: Kind, body: RowIn
) -> JSONResponse:
    """Add or change one record, checked exactly as a CSV upload's row (it is imported as a
    one-row file), and audited; HTTP 422 with the refused cells when nothing was written."""
    _allowed(viewer, kind)
    known = {c.name for c in KINDS[kind].columns}
    unknown = sorted(set(body.values) - known)
    if unknown:
        report = ImportReport(kind, errors=[RowError(0, name, "not_a_column") for name in unknown])
        return _report(report, False, _language(request, context))
    names = [c.name for c in KINDS[kind].columns if c.name in body.values]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([names, [body.values[name] for name in names]])
    data = buffer.getvalue().encode("utf-8")
    return _report(
        _apply(context, viewer, kind, data, "utf-8", False, False, "form", dict(body.values)),
        False,
        _language(request, context),
    )


def _apply(
    context: AppContext,
    viewer: Viewer,
    kind: str,
    data: bytes,
    encoding: Literal["auto", "utf-8", "gbk"],
    skip_bad_rows: bool,
    dry_run: bool,
    source: str,
    audit: dict[str, Any],
) -> ImportReport:
    """Import `data` for the viewer (refusing rows outside their areas) and, when written,
    record who changed what in the watch lists' audit trail."""
    report = ImportReport(kind)
    with context.writes() as session:
        if not viewer.scope.everything:
            try:
                text, _ = decode(data, encoding)
            except EncodingError:
                text = ""  # the import reports it
            report.errors.extend(out_of_scope(session, viewer, kind, text))
            if report.errors:
                return report
        try:
            report = import_csv(session, kind, data, encoding=encoding, skip_bad_rows=skip_bad_rows)
        except DBAPIError as exc:
            session.rollback()
            return ImportReport(
                kind, errors=[RowError(0, None, "database", params={"detail": str(exc.orig)})]
            )
        if report.applied and not dry_run:
            session.add(
                WatchlistChange(
                    actor=viewer.login,
                    actor_id=viewer.user_id,
                    kind=kind,
                    source=source,
                    created=report.created,
                    updated=report.updated,
                    values=audit,
                )
            )
            session.commit()
        else:
            session.rollback()
    return report


@router.get(
    "/{kind}/csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def download_csv(
    context: Context,
    viewer: StaffViewer,
    kind: Kind,
    encoding: Literal["utf-8-sig", "gbk"] = "utf-8-sig",
    headers: Literal["en", "zh"] = "en",
) -> Response:
    """The watch-list file of `kind` (staff: only rows of their areas), ready for a
    spreadsheet: UTF-8 with BOM or GBK, English or Chinese headers."""
    _allowed(viewer, kind)
    with context.reads() as session:
        handler = KINDS[kind](session)
        rows = list(handler.export())
        if not viewer.scope.everything and kind == "devices":
            serving = sites_serving(session, viewer)
            rows = [r for r in rows if r.get("site") in serving]
        elif not viewer.scope.everything:
            column, area_by_code = (
                ("grid_code", dict(session.execute(select(Area.code, Area.id)).all()))
                if kind == "persons"
                else ("person_code", _area_of_person(session))
            )
            rows = [r for r in rows if viewer.scope.sees_area(area_by_code.get(r.get(column, "")))]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name if headers == "en" else c.zh for c in handler.columns])
    for row in rows:
        writer.writerow([row.get(c.name, "") for c in handler.columns])
    charset = "gb18030" if encoding == "gbk" else "utf-8"
    return Response(
        encode(buffer.getvalue(), encoding),
        media_type=f"text/csv; charset={charset}",
        headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'},
    )
