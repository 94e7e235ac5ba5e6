"""Ingest and rules workers are killed (SIGKILL) mid-stream, in the same run, and restarted
under their own names: none of 5,000 events is lost, no alert is raised twice.

Two ingest workers share the subscription and two rules workers the consumer group. First
`ingest-1` and `rules-1` are killed together, then, once they are back, `ingest-2` and
`rules-2`: every worker dies once with messages and entries in hand. Runs on SQLite and on
PostgreSQL.
"""

import pytest
from sqlalchemy import func, select

from records.alerts import Alert
from tests.faults.stack import EDGE, Stack, wait_until
from tests.faults.tally import assert_nothing_lost_or_doubled, settled
from tests.faults.timeline import Timeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EPISODES = 1250
"""Four events each (start, two updates, end): 5,000 events, 1,250 alerts."""


def alerts(stack: Stack) -> int:
    """Alerts committed so far."""
    with stack.sessions()() as session:
        return int(session.scalar(select(func.count()).select_from(Alert)) or 0)


def kill_and_restart(stack: Stack, names: list[str], stored: int, raised: int) -> tuple[int, int]:
    """Once `stored` entries are on the stream and `raised` alerts committed, SIGKILL the named
    workers together and start them again; returns (entries stored, alerts) at the kill."""
    wait_until(lambda: stack.stored() >= stored, 180, f"{stored} events stored")
    wait_until(lambda: alerts(stack) >= raised, 180, f"{raised} alerts")
    stack.check_services()
    for name in names:
        stack.services[name].kill()
    progress = stack.stored(), alerts(stack)
    for name in names:
        stack.services[name].start()
    return progress


def test_ingest_and_rules_workers_killed_mid_stream(stack: Stack) -> None:
    for number in (1, 2):
        stack.start_ingest(f"ingest-{number}")
        stack.start_rules(f"rules-{number}")
    events = Timeline(stack.site, EDGE, cameras=8, spacing_s=0.2).episodes(EPISODES, updates=2)
    publisher = stack.publisher(replay_rate=1000)
    producing = stack.produce(publisher, events)
    try:
        kills = [
            kill_and_restart(stack, ["ingest-1", "rules-1"], stored=1200, raised=100),
            kill_and_restart(stack, ["ingest-2", "rules-2"], stored=2800, raised=400),
        ]
    finally:
        producing.join(180)
    assert kills[-1][1] < EPISODES, "every alert was raised before the last kill: nothing tested"

    tally = settled(stack, events, timeout=240)
    at = ", ".join(f"{entries} entries and {raised} alerts" for entries, raised in kills)
    print(f"workers killed at {at}: {tally.summary()}")
    assert tally.episodes == EPISODES
    assert_nothing_lost_or_doubled(tally, stack, events)
