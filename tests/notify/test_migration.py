"""Revision 0002 adds exactly the notification tables and takes them away again."""

from sqlalchemy import inspect

from records.db import make_engine
from records.migrate import current_revision, downgrade, upgrade

TABLES = {
    "notifications",
    "notification_deliveries",
    "push_subscriptions",
    "quiet_hours",
    "vapid_keys",
}


def test_revision_0002_up_and_down(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0001")
    before = set(inspect(engine).get_table_names())
    upgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    assert set(inspect(engine).get_table_names()) == before | TABLES
    unique = inspect(engine).get_unique_constraints("notification_deliveries")
    assert [u["column_names"] for u in unique] == [["job_id", "channel", "target_key"]]
    downgrade(engine, "0001")
    assert set(inspect(engine).get_table_names()) == before
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()
