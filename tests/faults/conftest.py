"""Fixtures of the fault-injection tests: a private pipeline per test (see `stack.py`)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.stack import Stack, running_stack
from tests.records.databases import database_url

__all__ = ["database_url"]


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    """Broker, Redis (AOF) and a migrated database of the test's own; the test starts the
    services it needs."""
    with running_stack(tmp_path, database_url) as stack:
        yield stack
