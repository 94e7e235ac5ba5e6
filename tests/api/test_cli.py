"""The API's command line: the first admin, staff users and guardians' sign-ins."""

from pathlib import Path

import typer
import yaml
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from alert_api.cli import serve, users_app
from alert_api.passwords import verify_password
from records.db import make_sessionmaker
from records.users import User, UserRole
from tests.records.village import import_village


def test_create_admin_from_the_command_line(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": database_url}}))
    runner = CliRunner()
    args = [
        "create-admin",
        "root",
        "--display-name",
        "管理员",
        "--password-stdin",
        "-c",
        str(config),
    ]
    result = runner.invoke(users_app, args, input="a long password\n")
    assert result.exit_code == 0, result.output
    with make_sessionmaker(engine)() as session:
        user = session.scalar(select(User).where(User.login == "root"))
        assert user is not None and user.role is UserRole.ADMIN and user.display_name == "管理员"
        assert verify_password(user.password_hash, "a long password")
    again = runner.invoke(users_app, args, input="a long password\n")
    assert again.exit_code == 2 and "taken" in again.output
    short = runner.invoke(users_app, ["create-admin", "root2", *args[2:]], input="short\n")
    assert short.exit_code == 2 and "at least 8" in short.output


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    url = f"sqlite:///{tmp_path}/empty.sqlite3"
    config.write_text(yaml.safe_dump({"database": {"url": url}}))
    app = typer.Typer()
    app.command()(serve)
    result = CliRunner().invoke(app, ["--config", str(config)])
    assert result.exit_code == 2 and "shouwang db upgrade" in result.output


def test_staff_and_guardian_sign_ins_from_the_command_line(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    sessions = make_sessionmaker(engine)
    import_village(sessions)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": database_url}}))
    runner = CliRunner()
    add = ["add", "duty", "--role", "duty_officer", "--password-stdin", "-c", str(config)]
    missing = runner.invoke(users_app, add, input="a long password\n")
    assert missing.exit_code == 2 and "needs staff_code" in missing.output
    with_code = [*add, "--staff-code", "duty-town-01"]
    assert runner.invoke(users_app, with_code, input="a long password\n").exit_code == 0
    again = runner.invoke(users_app, with_code, input="another password\n")
    assert again.exit_code == 2 and "taken" in again.output
    reset = runner.invoke(users_app, [*with_code, "--reset-password"], input="new password!\n")
    assert reset.exit_code == 0, reset.output
    guardian = ["guardian", "13900000001", "--password-stdin", "-c", str(config)]
    assert runner.invoke(users_app, guardian, input="guardian pass\n").exit_code == 0
    unknown = runner.invoke(users_app, ["guardian", "13000000000", *guardian[2:]], input="x" * 9)
    assert unknown.exit_code == 2 and "no guardian with phone" in unknown.output
    with sessions() as session:
        duty = session.scalar(select(User).where(User.login == "duty"))
        assert duty is not None and duty.role is UserRole.DUTY_OFFICER
        assert verify_password(duty.password_hash, "new password!")
        daughter = session.scalar(select(User).where(User.login == "13900000001"))
        assert daughter is not None and daughter.role is UserRole.GUARDIAN
        assert verify_password(daughter.password_hash, "guardian pass")
