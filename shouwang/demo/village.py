"""The demo village: its database, watch lists (imported from CSV as a grid worker would) and
the people who sign in: a duty officer, a grid worker and the elder's daughter."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alert_api.accounts import accept_invite, create_invite, create_user, find_user, set_password
from records.db import make_engine, make_sessionmaker
from records.migrate import upgrade
from records.people import Guardian, Staff
from records.users import UserRole
from records.watchlist_csv import import_csv

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo"
CSV_ORDER = ("areas", "sites", "staff", "persons", "guardians")
"""Import order: parents before children."""
DEMO_PASSWORD = "shouwang-demo"


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


def ensure_logins(sessions: sessionmaker[Session]) -> list[DemoLogin]:
    """The demo's users (created once, passwords reset on every run)."""
    staff = [
        ("duty officer, 灯塔街道值班室", "duty", UserRole.DUTY_OFFICER, "duty-town-01"),
        ("grid worker, 杨秀兰", "gridworker", UserRole.GRID_WORKER, "gw-001"),
    ]
    logins = []
    with sessions() as session:
        for role, login, user_role, staff_code in staff:
            user = find_user(session, login)
            if user is None:
                create_user(
                    session,
                    login=login,
                    display_name="",
                    password=DEMO_PASSWORD,
                    role=user_role,
                    staff_code=staff_code,
                )
            else:
                set_password(session, user, DEMO_PASSWORD)
            logins.append(DemoLogin(role, login, DEMO_PASSWORD, "/dashboard"))
        daughter = session.scalar(select(Guardian).where(Guardian.phone == "13900000001"))
        if daughter is None:
            raise RuntimeError("demo guardians.csv has no guardian 13900000001")
        _, invite = create_invite(session, daughter, created_by=None, ttl_s=60)
        accept_invite(session, invite, DEMO_PASSWORD)
        role = "guardian, 王丽 (the elder's daughter)"
        logins.append(DemoLogin(role, daughter.phone, DEMO_PASSWORD, "/guardian"))
        session.commit()
    return logins


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
