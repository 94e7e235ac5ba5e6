"""The demo village: its database, watch lists (imported from CSV as a grid worker would) and
the people who sign in: a duty officer, a grid worker and the elder's daughter."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from records.db import make_engine, make_sessionmaker
from records.migrate import upgrade
from records.people import Guardian, Staff
from records.users import UserRole
from records.watchlist_csv import import_csv
from shouwang_cli.demo.processes import run_commands

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo"
CSV_ORDER = ("areas", "sites", "staff", "persons", "guardians", "devices")
"""Import order: parents before children."""
DEMO_PASSWORD = "shouwang-demo"
DAUGHTER_PHONE = "13900000001"
"""The elder's daughter (configs/demo/guardians.csv), who signs in to the guardian's page."""


@dataclass(frozen=True)
class DemoLogin:
    """Who can sign in to the demo, and as what."""

    role: str
    login: str
    password: str
    page: str


def prepare_database(url: str) -> sessionmaker[Session]:
    """Migrate the database and import the demo village (again: imports are upserts)."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    for kind in CSV_ORDER:
        with sessions() as session:
            report = import_csv(session, kind, (DEMO_CONFIG / f"{kind}.csv").read_bytes())
            if not report.ok:
                raise RuntimeError(f"demo {kind}.csv did not import: {report.summary()}")
            session.commit()
    return sessions


def ensure_logins(database: str) -> list[DemoLogin]:
    """The demo's users, made with `shouwang users` as an operator would (created once,
    passwords reset on every run)."""
    staff = [
        ("duty officer, 灯塔街道值班室", "duty", UserRole.DUTY_OFFICER, "duty-town-01"),
        ("grid worker, 杨秀兰", "gridworker", UserRole.GRID_WORKER, "gw-001"),
        (
            "supervisor (督办), 灯塔街道综治中心主任",
            "supervisor",
            UserRole.SUPERVISOR,
            "sup-town-01",
        ),
    ]
    commands = [
        ["users", "add", login, "--role", role.value, "--staff-code", code, "--reset-password"]
        for _, login, role, code in staff
    ]
    commands.append(["users", "guardian", DAUGHTER_PHONE])
    run_commands(
        [[*command, "--password-stdin"] for command in commands],
        stdin=DEMO_PASSWORD + "\n",
        env={"SHOUWANG_DATABASE__URL": database},
    )
    logins = [DemoLogin(who, login, DEMO_PASSWORD, "/dashboard") for who, login, _, _ in staff]
    who = "guardian, 王丽 (the elder's daughter)"
    return [*logins, DemoLogin(who, DAUGHTER_PHONE, DEMO_PASSWORD, "/guardian")]


def route_notifications(
    sessions: sessionmaker[Session], url_for: Callable[[str, str], str]
) -> None:
    """Give every guardian and staff member of the demo a channel to the demo's inbox besides
    Web Push: `url_for(key, label)` returns the apprise URL for one recipient."""
    with sessions() as session:
        for guardian in session.scalars(select(Guardian)):
            label = f"{guardian.name} (guardian)"
            guardian.channels = ["webpush", url_for(f"guardian-{guardian.id}", label)]
        for member in session.scalars(select(Staff)):
            label = f"{member.name} ({member.role.value})"
            member.channels = ["webpush", url_for(f"staff-{member.id}", label)]
        session.commit()
