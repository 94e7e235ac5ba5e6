"""Engines and sessions from a database URL: a SQLite file by default, PostgreSQL when set."""

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shouwang.streams import REDIS_OUTAGE

TRANSIENT: tuple[type[Exception], ...] = (OperationalError, InterfaceError, *REDIS_OUTAGE)
"""Errors of the database or Redis, not of the work in hand: waited out, never counted
against an entry, a job or a timer."""


def lock_conflict(error: Exception) -> bool:
    """A deadlock or serialisation failure: the transaction lost a race, the database is fine."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in ("40001", "40P01")


def normalise_url(url: str) -> str:
    """Use psycopg 3 for `postgres://` and `postgresql://` URLs (as DATABASE_URL often is)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


READ_ONLY = "shouwang_read_only"
"""Execution option of read-only sessions (on SQLite they begin without taking the write lock)."""


def make_engine(url: str, *, echo: bool = False, pre_ping: bool = True) -> Engine:
    """An engine for `url`. SQLite gets WAL, foreign keys, a busy timeout and `BEGIN IMMEDIATE`
    (writers queue instead of failing when several processes share the file); read-only
    sessions (`make_sessionmaker(..., read_only=True)`) begin without the write lock. Other
    databases check a pooled connection before each use unless `pre_ping` is false (for a
    caller that retries a transaction that fails on a stale connection anyway)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=pre_ping)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (results are used after the transaction).

    `read_only` sessions must not write; on SQLite they then never wait for (or hold up) writers.
    """
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)
