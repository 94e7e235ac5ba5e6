"""What every test directory shares: structlog's configuration for in-process services and
the SQLite database migrated once per run."""

import pytest
import structlog

from tests.records.databases import migrated_sqlite

__all__ = ["migrated_sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    """structlog's default configuration, but with plain tracebacks: its default renders
    them with Rich, every frame's local variables included, which takes seconds per logged
    exception on a busy machine (services run by the tests log many on purpose)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.dev.set_exc_info,
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
        ]
    )
