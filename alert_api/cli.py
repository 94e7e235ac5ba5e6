"""Command line of the alert API: `serve` (wired as `shouwang api`) and `users_app`
(`create-admin`, the first user; `add`, staff users; `guardian`, a guardian's sign-in). Heavy
imports happen inside the commands."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from shouwang.cli_helpers import ConfigOption, JsonLogsOption, console, fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from alert_api.settings import ApiSettings

users_app = typer.Typer(help="Users of the alert API: admins, staff and guardians' sign-ins.")


@users_app.callback()
def users() -> None:
    """Users of the alert API."""


def _settings(config: Path | None, **overrides: object) -> "ApiSettings":
    from alert_api.settings import ApiSettings
    from shouwang.settings import ConfigError

    try:
        return ApiSettings.load(config, **overrides)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: api.host).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: api.port).")] = None,
    config: ConfigOption = None,
    json_logs: JsonLogsOption = None,
) -> None:
    """Run the alert API and its web pages (dashboard, watch lists, guardians' page)."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from alert_api.app import create_app
    from alert_api.context import AppContext
    from records.db import make_engine
    from records.migrate import SchemaOutdated, require_current
    from shouwang.logs import configure_logging

    settings = _settings(config)
    api = settings.api
    engine = make_engine(settings.database.url)
    try:
        require_current(engine)
        context = AppContext.build(settings)
    except (SchemaOutdated, SQLAlchemyError) as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    configure_logging(settings.log_level, json_logs)
    uvicorn.run(
        create_app(settings, context),
        host=host or api.host,
        port=port or api.port,
        proxy_headers=True,
        log_config=None,
    )


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]
StaffRoleName = Literal["admin", "duty_officer", "grid_worker", "supervisor"]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@contextmanager
def _accounts(config: Path | None) -> "Iterator[Session]":
    """A transaction on the configured (migrated) database; account errors exit with the
    reason."""
    from alert_api.accounts import AccountError
    from records.db import make_engine, make_sessionmaker
    from records.migrate import SchemaOutdated, require_current

    engine = make_engine(_settings(config).database.url)
    try:
        require_current(engine)
        with make_sessionmaker(engine).begin() as session:
            yield session
    except (AccountError, SchemaOutdated) as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()


@users_app.command("create-admin")
def create_admin(
    login: Annotated[str, typer.Argument(help="Sign-in name of the new admin.")],
    display_name: Annotated[str, typer.Option(help="Name shown in the audit trail.")] = "",
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Create an admin user (the first one, or another); asks for the password."""
    add(login, "admin", None, display_name, False, password_stdin, config)


@users_app.command("add")
def add(
    login: Annotated[str, typer.Argument(help="Sign-in name of the new user.")],
    role: Annotated[StaffRoleName, typer.Option(help="What the user may do.")],
    staff_code: Annotated[
        str | None,
        typer.Option(
            help="Code of the staff record (watch list) a duty officer or grid worker acts for."
        ),
    ] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the audit trail.")] = "",
    reset_password: Annotated[
        bool, typer.Option(help="If the login exists, give it this password instead of failing.")
    ] = False,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Create a staff user (admin, duty officer, grid worker); asks for the password.
    Guardians sign in through an invite, or `users guardian`."""
    from alert_api.accounts import create_user, find_user, set_password
    from records.users import UserRole

    password = _password(password_stdin)
    with _accounts(config) as session:
        user = find_user(session, login) if reset_password else None
        if user is not None:
            set_password(session, user, password)
            console.print(f"new password for {user.login} (id {user.id})", highlight=False)
            return
        user = create_user(
            session,
            login=login,
            display_name=display_name,
            password=password,
            role=UserRole(role),
            staff_code=staff_code,
        )
        console.print(f"created {role} {user.login} (id {user.id})", highlight=False)


@users_app.command("guardian")
def guardian(
    phone: Annotated[str, typer.Argument(help="The guardian's phone number (watch list).")],
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Let a guardian of the watch list sign in with their phone number and this password (as
    an accepted invite does; an existing sign-in gets the new password)."""
    from sqlalchemy import select

    from alert_api.accounts import guardian_login
    from records.people import Guardian

    password = _password(password_stdin)
    with _accounts(config) as session:
        found = session.scalar(select(Guardian).where(Guardian.phone == phone.strip()))
        if found is None:
            raise fail(f"no guardian with phone {phone!r} in the watch list (import guardians)")
        user = guardian_login(session, found, password)
        console.print(f"{found.name} signs in as {user.login} (id {user.id})", highlight=False)
