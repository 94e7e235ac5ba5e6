"""The repository's top-level packages, as found on disk and as pyproject.toml lists them."""

import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
NOT_SHIPPED = {"tests", "benchmarks"}
"""Folders with Python packages that are not part of the product."""


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def top_level_packages() -> list[str]:
    """Every folder at the repository's root holding an `__init__.py` (tests and benchmarks
    aside), sorted."""
    return sorted(
        path.parent.name
        for path in REPO.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED
    )
