"""Redis, with AOF on (`appendfsync everysec`, as in production), restarts while events flow
through ingest and the rules: none is lost, no alert is raised twice.

A restart, cleanly (SIGTERM: Redis fsyncs the AOF and exits) and as a process crash (SIGKILL:
what Redis wrote to the AOF is in the page cache, which survives the process). Not tested,
and the one bounded exception: a power loss or kernel crash loses what was written after the
last fsync, up to about one second of writes (see docs/faults.md).
"""

import pytest

from tests.faults.stack import EDGE, Stack, wait_until
from tests.faults.tally import assert_nothing_lost_or_doubled, settled
from tests.faults.timeline import Timeline

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EPISODES = 1000
"""Three events each (start, update, end): 3,000 events, 1,000 alerts."""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("signal", ["SIGTERM", "SIGKILL"])
def test_redis_restart_while_events_flow(stack: Stack, signal: str) -> None:
    stack.start_ingest("ingest-1")
    rules = stack.start_rules("rules-1")
    events = Timeline(stack.site, EDGE, cameras=8, spacing_s=0.2).episodes(EPISODES, updates=1)
    publisher = stack.publisher(replay_rate=1000)
    producing = stack.produce(publisher, events)
    try:
        wait_until(lambda: stack.stored() >= 1000, 120, "1,000 events stored")
        wait_until(lambda: "alert created" in rules.log_text(), 60, "the first alerts")
        if signal == "SIGKILL":
            stack.redis_server.kill()
        else:
            stack.redis_server.stop()
        # While Redis is away ingest keeps messages unacknowledged at the broker and the
        # rules worker backs off; the edge goes on publishing.
        ingest = stack.services["ingest-1"]
        wait_until(
            lambda: "redis did not accept batch; retrying" in ingest.log_text(),
            60,
            "ingest to meet the outage",
        )
        wait_until(
            lambda: "database or redis unavailable" in rules.log_text(),
            60,
            "the rules worker to meet the outage",
        )
        stack.redis_server.start()
        stored_at_restart = stack.stored()
    finally:
        producing.join(120)
    assert stored_at_restart < len(events), "every event was stored before the restart"

    tally = settled(stack, events)
    print(f"redis {signal}, {stored_at_restart} entries at the restart: {tally.summary()}")
    assert tally.episodes == EPISODES
    assert_nothing_lost_or_doubled(tally, stack, events)
