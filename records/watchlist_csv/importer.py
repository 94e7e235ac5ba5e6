"""Importing a CSV file: check every row, then write all of them or none (unless asked to
skip the bad ones)."""

import csv
import io

from sqlalchemy.orm import Session

from records.watchlist_csv.cells import Cells
from records.watchlist_csv.encoding import Encoding, EncodingError, decode
from records.watchlist_csv.kinds import CsvKind
from records.watchlist_csv.registry import KINDS
from records.watchlist_csv.report import ImportReport, RowError


def import_csv(
    session: Session,
    kind: str,
    data: bytes,
    *,
    encoding: Encoding = "auto",
    skip_bad_rows: bool = False,
) -> ImportReport:
    """Import `data` (CSV bytes) as `kind` into `session`, which the caller commits.

    Every bad row is reported with its line, column and reason. Nothing is written when any
    row is bad, unless `skip_bad_rows`: then the good rows are written and the bad ones listed.
    """
    report = ImportReport(kind)
    if kind not in KINDS:
        report.errors.append(RowError(0, None, "unknown_kind", params={"kinds": ", ".join(KINDS)}))
        return report
    try:
        text, report.encoding = decode(data, encoding)
    except EncodingError as exc:
        report.errors.append(RowError(0, None, exc.key, params=exc.params))
        return report
    handler_class = KINDS[kind]
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    header = next(reader, None)
    names = _columns(handler_class.header_names(), header, handler_class, report)
    if report.errors:
        return report
    handler = handler_class(session, frozenset(names))
    items = []
    bad_rows = 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        report.rows += 1
        cells = Cells(reader.line_num, dict(zip(names, row, strict=False)))
        if len(row) > len(names):
            cells.fail(None, "too_many_cells", cells=len(row), columns=len(names))
        item = None if cells.errors else handler.check(cells)
        if cells.errors:
            report.errors.extend(cells.errors)
            bad_rows += 1
        else:
            items.append(item)
    if report.errors and not skip_bad_rows:
        return report
    report.skipped = bad_rows
    report.created, report.updated = handler.apply(items)
    session.flush()
    report.applied = True
    return report


def _dialect(text: str) -> type[csv.Dialect]:
    first = text.split("\n", 1)[0]
    if "\t" in first and "," not in first:
        return csv.excel_tab
    return csv.excel


def _columns(
    accepted: dict[str, str], header: list[str] | None, kind: type[CsvKind], report: ImportReport
) -> list[str]:
    if not header or not any(cell.strip() for cell in header):
        report.errors.append(RowError(1, None, "empty_file"))
        return []
    names: list[str] = []
    for cell in header:
        name = accepted.get(cell.strip().lstrip("\ufeff").lower())
        if name is None:
            known = ", ".join(column.name for column in kind.columns)
            report.errors.append(RowError(1, cell, "unknown_column", params={"known": known}))
        elif name in names:
            report.errors.append(RowError(1, cell, "column_twice", params={"name": name}))
        names.append(name or cell)
    for column in kind.columns:
        if column.required and column.name not in names:
            report.errors.append(
                RowError(
                    1,
                    column.name,
                    "column_missing",
                    params={"zh": column.zh},
                )
            )
    return names
