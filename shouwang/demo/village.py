"""The demo village: its database, watch lists (imported from CSV as a grid worker would) and
rules."""

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from records.db import make_engine, make_sessionmaker
from records.migrate import upgrade
from records.watchlist_csv import import_csv

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo"
DEMO_RULES = DEMO_CONFIG / "rules.yaml"
CSV_ORDER = ("areas", "sites", "staff", "persons", "guardians")
"""Import order: parents before children."""


def database_url(workdir: Path) -> str:
    """The demo's SQLite file."""
    return f"sqlite:///{(workdir / 'demo.sqlite3').resolve()}"


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
