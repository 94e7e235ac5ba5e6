"""Helpers for the engine's SQL statements, which are built once and run with parameters (so a
batch spends no time constructing them) on the tables themselves (no ORM layer)."""

from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam


def table(model: type[Any]) -> Table:
    """The table of a record class."""
    found: Table = model.__table__
    return found


def in_param(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column IN (…)`, the values given at execution as the list parameter `name`."""
    return column.in_(bindparam(name, expanding=True))
