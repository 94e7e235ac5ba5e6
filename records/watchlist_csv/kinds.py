"""What every CSV kind provides: its columns (English and Chinese headers), row checks, how
checked rows are written, and the rows of an export."""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.people import Area
from records.watchlist_csv.cells import Cells


@dataclass(frozen=True, slots=True)
class Column:
    """A CSV column: its name, its Chinese header, other accepted headers."""

    name: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    """The header must have it (its cells may still be optional)."""


class CsvKind(ABC):
    """One kind of CSV file. An instance serves one import or export (it remembers the rows
    checked so far, so later rows may refer to earlier ones)."""

    name: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]

    def __init__(self, session: Session, present: frozenset[str] = frozenset()) -> None:
        self.session = session
        self.present = present
        """Columns the file has (absent ones leave what they describe unchanged)."""
        self.load()

    def load(self) -> None:  # noqa: B027 - a hook with nothing to do by default
        """Read what the row checks need from the database."""

    @abstractmethod
    def check(self, row: Cells) -> Any:
        """The row's values, ready to apply; problems go to `row.errors`."""

    @abstractmethod
    def apply(self, items: list[Any]) -> tuple[int, int]:
        """Write checked rows (in file order); returns (created, updated)."""

    @abstractmethod
    def export(self) -> Iterable[dict[str, str]]:
        """Every record of this kind as a row, by column name."""

    @classmethod
    def header_names(cls) -> dict[str, str]:
        """Accepted header (lower case) → column name."""
        names: dict[str, str] = {}
        for column in cls.columns:
            for header in (column.name, column.zh, *column.aliases):
                names[header.strip().lower()] = column.name
        return names


def joined(values: Iterable[str]) -> str:
    """A list as one cell."""
    return "; ".join(values)


def yes_no(value: bool) -> str:
    """A flag as a cell."""
    return "yes" if value else "no"


def area_ids(session: Session) -> dict[str, int]:
    """Area code → id."""
    return {code: id_ for code, id_ in session.execute(select(Area.code, Area.id))}
