"""Schema migrations with Alembic; the scripts ship inside the package (`records/migrations`)."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config for the packaged scripts, bound to `connection` if given."""
    config = Config()
    config.set_main_option("script_location", "records:migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration scripts found"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database back to `revision` (`base` removes every table)."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


class SchemaOutdated(RuntimeError):
    """The database is not at the code's revision; the message says what to run."""


def require_current(engine: Engine) -> None:
    """Raise SchemaOutdated unless the database is at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutdated(
            f"database {engine.url.render_as_string(hide_password=True)} is at revision "
            f"{current or '(empty)'}, the code needs {head}: run `shouwang db upgrade`"
        )
