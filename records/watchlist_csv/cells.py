"""Parsing spreadsheet cells into record values, with messages a grid worker understands."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from records.channel_order import parse_order
from records.refusals import Refusal
from records.types import SourceKind
from records.watchlist_csv.report import RowError

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SEPARATORS = re.compile(r"[;；,，、\n]")
TRUE = {"1", "true", "yes", "y", "是", "对", "√", "x"}
FALSE = {"0", "false", "no", "n", "否", "不", "×", ""}
E = TypeVar("E", bound=StrEnum)


class CellError(Refusal):
    """A cell that cannot be used; the refusal says what is expected."""


def text(value: str, *, required: bool = False, max_len: int = 100) -> str:
    """Trimmed text."""
    value = value.strip()
    if required and not value:
        raise CellError("required")
    if len(value) > max_len:
        raise CellError("too_long", max_len=max_len)
    return value


def code(value: str, *, required: bool = True) -> str:
    """An id code: 1-64 of A-Z a-z 0-9 _ . - (no spaces)."""
    value = value.strip()
    if not value:
        if required:
            raise CellError("required")
        return ""
    if not IDENTIFIER.fullmatch(value):
        raise CellError("code")
    return value


def boolean(value: str) -> bool:
    """yes/no in English or Chinese (是/否), 1/0, true/false; empty is no."""
    folded = value.strip().lower()
    if folded in TRUE:
        return True
    if folded in FALSE:
        return False
    raise CellError("boolean")


def integer(value: str, *, low: int, high: int, default: int | None = None) -> int | None:
    """A whole number in [low, high]; empty gives `default`."""
    value = value.strip()
    if not value:
        return default
    try:
        number = int(float(value)) if re.fullmatch(r"\d+\.0*", value) else int(value)
    except ValueError:
        raise CellError("whole_number", low=low, high=high) from None
    if not low <= number <= high:
        raise CellError("range", low=low, high=high)
    return number


def birth_year(value: str) -> int | None:
    """A year of birth (1900 to this year)."""
    return integer(value, low=1900, high=date.today().year)


def choice(value: str, mapping: Mapping[str, E]) -> E:
    """One of the mapping's keys (case-insensitive), e.g. elder/老人."""
    folded = value.strip().lower()
    if folded in mapping:
        return mapping[folded]
    options = sorted({member.value for member in mapping.values()})
    if not folded:
        raise CellError("required")
    raise CellError("choice", options=", ".join(options))


def phone(value: str, *, required: bool = True) -> str:
    """A phone number: digits with an optional leading +; spaces and dashes are dropped."""
    compact = re.sub(r"[\s-]", "", value)
    if not compact:
        if required:
            raise CellError("required")
        return ""
    if not re.fullmatch(r"\+?\d{5,20}", compact):
        raise CellError("phone")
    return compact


def items(value: str) -> list[str]:
    """A list in one cell, separated by ; , 、 (Chinese or English) or new lines."""
    return [item.strip() for item in SEPARATORS.split(value) if item.strip()]


def channels(value: str) -> list[str]:
    """A channel order: `webpush`, `sms`, `voice`, robot or apprise URLs, each optionally
    after `[60s]` / `[2m critical]`, separated by ; (`records.channel_order`)."""
    found = [item for item in (part.strip() for part in value.split(";")) if item]
    try:
        parse_order(found)
    except Refusal as exc:
        raise CellError(exc.key, **exc.params) from None
    return found


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A camera (optionally one zone), sensor or edge at a site: `[kind:][site/]source[#zone]`."""

    site: str
    kind: SourceKind
    source: str
    zone: str | None = None

    def render(self, default_site: str) -> str:
        """The cell form (the site is left out when it is the row's)."""
        prefix = "" if self.kind is SourceKind.CAMERA else f"{self.kind.value}:"
        site = "" if self.site == default_site else f"{self.site}/"
        zone = f"#{self.zone}" if self.zone else ""
        return f"{prefix}{site}{self.source}{zone}"


SOURCE = re.compile(r"^(?:(camera|sensor|edge):)?(?:([^/#:]+)/)?([^/#:]+)(?:#([^/#:]+))?$")


def sources(value: str, site: str) -> list[SourceSpec]:
    """Covering sources, e.g. `cam-home-wang#room; sensor:sos-wang` (site from the `site` cell
    unless written as `site/source`)."""
    found = []
    for item in items(value):
        match = SOURCE.fullmatch(item)
        if not match:
            raise CellError("source_form", item=item)
        kind, own_site, source, zone = match.groups()
        spec_site = own_site or site
        if not spec_site:
            raise CellError("source_site", item=item)
        for part in filter(None, (spec_site, source, zone)):
            if not IDENTIFIER.fullmatch(part):
                raise CellError("source_part", item=item, part=part)
        if zone and kind not in (None, "camera"):
            raise CellError("source_zone", item=item)
        found.append(SourceSpec(spec_site, SourceKind(kind or "camera"), source, zone))
    return found


class Cells:
    """One CSV row being checked: every problem is collected, not just the first."""

    def __init__(self, line: int, cells: Mapping[str, str]) -> None:
        self.line = line
        self.cells = cells
        self.errors: list[RowError] = []

    def raw(self, column: str) -> str:
        """The cell as written (empty if the column is absent)."""
        return self.cells.get(column, "") or ""

    def get(self, column: str, parse: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`parse(cell)`, or None with the problem recorded."""
        try:
            return parse(self.raw(column), *args, **kwargs)
        except CellError as exc:
            self.errors.append(RowError(self.line, column, exc.key, self.raw(column), exc.params))
            return None

    def fail(self, column: str | None, key: str, **params: Any) -> None:
        """Record a problem that is not about one cell's format (a refusal's key and fields)."""
        value = self.raw(column) if column else None
        self.errors.append(RowError(self.line, column, key, value, params))
