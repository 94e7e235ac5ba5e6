"""The example village of configs/watchlist-*.csv, imported the way a grid worker would."""

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from records.watchlist_csv import KINDS, import_csv

CONFIGS = Path(__file__).parents[2] / "configs"
SITE = "tongren-bijiang-01"


def example_file(kind: str) -> Path:
    """configs/watchlist-<kind>.csv."""
    return CONFIGS / f"watchlist-{kind}.csv"


def import_village(sessions: sessionmaker[Session], site: str = SITE) -> None:
    """Import every example file, in dependency order, each in its own transaction (at another
    `site` id if given: tests sharing the broker then see only their own messages)."""
    for kind in KINDS:
        text = example_file(kind).read_text(encoding="utf-8").replace(SITE, site)
        with sessions.begin() as session:
            report = import_csv(session, kind, text.encode())
            assert report.ok and report.applied, [str(e) for e in report.errors]
