"""What an import did, and every row it refused with the reason."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from records.refusals import WHERE, Language, message


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem with one row (line 1 is the header; 0 means the whole file): a refusal of
    the catalogue (`records.refusals`) and its fields."""

    line: int
    column: str | None
    key: str
    value: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The reason in English."""
        return self.reason("en")

    def reason(self, language: Language) -> str:
        """The reason in `language`."""
        return message(self.key, self.params, language)

    def text(self, language: Language, column_label: str | None = None) -> str:
        """The whole problem in `language`: row, column (its header in that language, if
        given), reason and the value given."""
        words = WHERE[language]
        where = words["line"].format(line=self.line) if self.line else words["file"]
        if self.column:
            where += words["and"] + words["column"].format(column=column_label or self.column)
        value = words["got"].format(value=self.value) if self.value not in (None, "") else ""
        return f"{where}{words['colon']}{self.reason(language)}{value}"

    def __str__(self) -> str:
        return self.text("en")


@dataclass(slots=True)
class ImportReport:
    """The outcome of one CSV import. `applied` says whether anything was written: without
    `skip_bad_rows`, one bad row means nothing is."""

    kind: str
    encoding: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    applied: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every row was good."""
        return not self.errors

    def summary(self) -> str:
        """One line for people."""
        state = "applied" if self.applied else "NOT applied (nothing was changed)"
        return (
            f"{self.kind}: {self.rows} row(s) read as {self.encoding or '?'}, {self.created} "
            f"created, {self.updated} updated, {self.skipped} skipped, "
            f"{len(self.errors)} problem(s); {state}"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (English reasons)."""
        data = asdict(self)
        data["errors"] = [{**asdict(e), "message": e.message} for e in self.errors]
        data["ok"] = self.ok
        return data
