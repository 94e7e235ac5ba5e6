"""Command line of the alert API: `serve` (wired as `shouwang api`) and `users_app`
(`create-admin`, the first user). Heavy imports happen inside the commands."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shouwang.cli_helpers import ConfigOption, JsonLogsOption, console, fail

if TYPE_CHECKING:
    from alert_api.settings import ApiSettings

users_app = typer.Typer(help="Users of the alert API: the first admin.")


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


@users_app.command("create-admin")
def create_admin(
    login: Annotated[str, typer.Argument(help="Sign-in name of the new admin.")],
    display_name: Annotated[str, typer.Option(help="Name shown in the audit trail.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Create an admin user (the first one, or another); asks for the password."""
    import sys

    from alert_api.accounts import AccountError, create_user
    from records.db import make_engine, make_sessionmaker
    from records.migrate import SchemaOutdated, require_current
    from records.users import UserRole

    settings = _settings(config)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(settings.database.url)
    try:
        require_current(engine)
        with make_sessionmaker(engine).begin() as session:
            user = create_user(
                session,
                login=login,
                display_name=display_name,
                password=password,
                role=UserRole.ADMIN,
            )
            console.print(f"created admin {user.login} (id {user.id})", highlight=False)
    except (AccountError, SchemaOutdated) as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
