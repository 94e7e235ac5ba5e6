"""Engines and sessions: URL forms, and SQLite readers that never wait for writers."""

import time

from sqlalchemy import Engine, func, select

from records.alerts import OutboxEntry
from records.db import make_sessionmaker, normalise_url


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalise_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgresql://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_read_only_sessions_do_not_wait_for_a_writer(engine: Engine) -> None:
    writer = make_sessionmaker(engine)()
    writer.begin()
    writer.add(OutboxEntry(channel="alerts", fields={}))
    writer.flush()  # holds the write lock (SQLite) until commit
    reader = make_sessionmaker(engine, read_only=True)
    started = time.monotonic()
    with reader() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
    assert time.monotonic() - started < 1.0
    writer.commit()
    writer.close()
    with reader() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 1
