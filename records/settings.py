"""The `database:` config section shared by every service that reads or writes records."""

import os

from pydantic import Field

from shouwang.settings import Section, ServiceSettings

DEFAULT_DATABASE_URL = "sqlite:///var/shouwang.sqlite3"


def _database_url_default() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


class DatabaseSettings(Section):
    """Where the records (watch lists, alerts, audit trail) live."""

    url: str = Field(
        default_factory=_database_url_default,
        description="SQLAlchemy URL: `sqlite:///path/file.sqlite3` (the default is "
        f"`{DEFAULT_DATABASE_URL}`, relative to the working directory) or "
        "`postgresql://user:password@host/db`. Without this key, `$DATABASE_URL` is used "
        "when set.",
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging).")


class RecordsSettings(ServiceSettings):
    """What `shouwang db` and `shouwang watchlist` read."""

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
