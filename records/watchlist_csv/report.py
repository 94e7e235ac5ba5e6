"""What an import did, and every row it refused with the reason."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem with one row (line 1 is the header; 0 means the whole file)."""

    line: int
    column: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        column = f", column {self.column}" if self.column else ""
        value = f" (got {self.value!r})" if self.value not in (None, "") else ""
        return f"{where}{column}: {self.message}{value}"


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
        """JSON-ready form (for the API)."""
        data = asdict(self)
        data["ok"] = self.ok
        return data
