"""The whole pipeline on a Redis Cluster with partitions (tests/faults/stack.py with
`cluster=True`): six counties' edge boxes → Mosquitto → two ingest workers → 3 masters with
replicas → two partitioned rules workers → PostgreSQL.

A master SIGKILLed mid-stream loses no acknowledged event and doubles no alert; a rules worker
SIGKILLed hands its partitions to the survivor, which decides everything, and does the
escalation steps of the alerts the dead worker raised, each once.
"""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from edge.publish import EdgePublisher
from records.alerts import Alert
from records.feed import AlertChange, Change
from records.timers import escalation_timers
from rules.config import RulesSettings
from shouwang.contracts import BehaviourEvent
from shouwang.leases import PartitionLeases
from shouwang.partitions import in_partition
from shouwang.redis_keys import ALERTS_STREAM, EVENTS_STREAM, RULES_GROUP, RULES_PREFIX
from shouwang.streams import GroupBacklog
from tests.city.conftest import COUNTIES
from tests.faults.stack import EDGE, Stack, running_stack, wait_until
from tests.faults.tally import assert_nothing_lost_or_doubled, settled
from tests.faults.timeline import Timeline
from tests.helpers.redis_cluster import RedisClusterNodes
from tests.records.databases import database_url

__all__ = ["database_url"]

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EPISODES_PER_COUNTY = 60
"""Three events each (start, update, end): 1,080 events, 360 alerts over six partitions."""
ESCALATION_RULES = Path(__file__).with_name("escalation_rules.yaml")
"""One alert per fall episode, escalating after 8 s and 14 s."""


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[Stack]:
    with running_stack(tmp_path, database_url, cluster=True) as stack:
        stack.write_config(rules={"lease_ttl_s": 3, "reclaim_idle_ms": 3000})
        yield stack


def county_events(episodes: int) -> dict[str, list[BehaviourEvent]]:
    """Fall episodes at one site in each county, by site."""
    return {
        site: Timeline(site, EDGE, cameras=4, spacing_s=0.5).episodes(episodes, updates=1)
        for site in (f"tongren-{county}-01" for county in COUNTIES)
    }


def leases(stack: Stack) -> dict[str, str]:
    client = stack.redis()
    try:
        return PartitionLeases(client, RULES_PREFIX, RULES_GROUP, "observer", 1000).owners()
    finally:
        client.close()


def publish(
    stack: Stack, publishers: dict[str, EdgePublisher], by_site: dict[str, list[BehaviourEvent]]
) -> list[BehaviourEvent]:
    """Hand each site's events to its edge publisher; returns every event."""
    threads = [stack.produce(publishers[site], events) for site, events in by_site.items()]
    for thread in threads:
        thread.join(120)
    return [event for events in by_site.values() for event in events]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_master_killed_mid_stream_loses_nothing_and_doubles_no_alert(stack: Stack) -> None:
    assert isinstance(stack.redis_server, RedisClusterNodes)
    stack.start_ingest("ingest-1")
    stack.start_ingest("ingest-2")
    stack.start_rules("rules-1")
    stack.start_rules("rules-2")
    by_site = county_events(EPISODES_PER_COUNTY)
    threads = [
        stack.produce(stack.publisher(site=site, replay_rate=300), events)
        for site, events in by_site.items()
    ]
    victim = stack.redis_server.master_of(in_partition(EVENTS_STREAM, COUNTIES[0]))
    wait_until(lambda: stack.stored() >= 300, 120, "300 events stored")
    stack.redis_server.kill(victim)
    stack.redis_server.wait_failover(victim)
    stored_at_kill = stack.stored()
    for thread in threads:
        thread.join(120)
    stack.redis_server.start(victim)
    events = [event for events in by_site.values() for event in events]
    assert stored_at_kill < len(events), "every event was stored before the kill"

    tally = settled(stack, events, timeout=240)
    print(f"master killed at {stored_at_kill} stored: {tally.summary()}")
    assert tally.episodes == EPISODES_PER_COUNTY * len(COUNTIES)
    assert_nothing_lost_or_doubled(tally, stack, events)
    assert set(leases(stack)) == set(COUNTIES)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_partitions_move_to_the_surviving_rules_worker(stack: Stack) -> None:
    stack.start_ingest("ingest-1")
    first = stack.start_rules("rules-1")
    stack.start_rules("rules-2")
    by_site = county_events(EPISODES_PER_COUNTY // 2)
    publishers = {site: stack.publisher(site=site, replay_rate=500) for site in by_site}
    halves = {site: len(events) // 2 for site, events in by_site.items()}
    before = publish(stack, publishers, {s: e[: halves[s]] for s, e in by_site.items()})
    wait_until(lambda: set(leases(stack)) == set(COUNTIES), 60, "every partition leased")
    wait_until(
        lambda: sorted(leases(stack).values()).count("rules-1") == 3,
        60,
        "the partitions shared three and three",
    )
    settled(stack, before, timeout=120)
    first.kill()
    del stack.services["rules-1"]  # gone for good: the survivor must do its work
    wait_until(
        lambda: set(leases(stack).values()) == {"rules-2"}, 60, "rules-2 to hold every partition"
    )
    publish(stack, publishers, {s: e[halves[s] :] for s, e in by_site.items()})
    events = [event for events in by_site.values() for event in events]
    tally = settled(stack, events, timeout=180)
    print(f"rules-1 killed: {tally.summary()}")
    assert_nothing_lost_or_doubled(tally, stack, events)
    assert "partition taken" in stack.services["rules-2"].log_text()


def escalations(stack: Stack) -> Counter[tuple[int, int]]:
    """(alert id, step reached) of every escalation announced on the live feed, counted."""
    client = stack.redis()
    try:
        changes = [AlertChange.from_fields(fields) for _, fields in client.xrange(ALERTS_STREAM)]
    finally:
        client.close()
    return Counter(
        (change.alert_id, int(change.alert["escalation_step"]))
        for change in changes
        if change.change is Change.ESCALATED
    )


def alert_steps(stack: Stack) -> dict[str, int]:
    """The escalation step each site's alert reached."""
    with stack.sessions()() as session:
        return {alert.site: alert.escalation_step for alert in session.scalars(select(Alert))}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_escalation_timers_move_with_their_partitions(stack: Stack) -> None:
    stack.write_config(
        rules={"file": str(ESCALATION_RULES), "lease_ttl_s": 3, "reclaim_idle_ms": 3000}
    )
    stack.start_ingest("ingest-1")
    first = stack.start_rules("rules-1")
    stack.start_rules("rules-2")
    by_site = county_events(1)
    starts = {site: events[:1] for site, events in by_site.items()}  # raised, never ended
    publish(stack, {site: stack.publisher(site=site) for site in by_site}, starts)
    wait_until(lambda: len(alert_steps(stack)) == len(COUNTIES), 60, "an alert in every county")
    wait_until(
        lambda: sorted(leases(stack).values()).count("rules-1") == 3,
        30,
        "the partitions shared three and three",
    )
    orphaned = sorted(p for p, owner in leases(stack).items() if owner == "rules-1")
    first.kill()
    del stack.services["rules-1"]
    assert set(alert_steps(stack).values()) == {0}, "a step was due before rules-1 died"
    client = stack.redis()
    try:
        for county in orphaned:  # the dead worker's timers wait in its partitions
            timers = escalation_timers(client, in_partition(RULES_PREFIX, county))
            assert client.zcard(timers.key) == 1, county
    finally:
        client.close()

    wait_until(
        lambda: set(alert_steps(stack).values()) == {2}, 90, "every alert at the second step"
    )
    assert set(leases(stack)) == set(COUNTIES)
    assert set(leases(stack).values()) == {"rules-2"}
    done = escalations(stack)
    assert max(done.values()) == 1, f"a step announced twice: {done}"
    assert {step for _, step in done} <= {1, 2}
    log = stack.services["rules-2"].log_text()
    assert all(f'"partition": "{county}"' in log for county in orphaned), log[-3000:]

    # Its backlog gauges, as rules-2's metrics endpoint reads them: per partition, nothing left.
    client = stack.redis()
    try:
        section = RulesSettings.load(stack.config).rules
        backlog = GroupBacklog(client, section, "shouwang_rules", lambda: COUNTIES)
        gauges = {
            (metric.name, sample.labels["partition"]): sample.value
            for metric in backlog.collect()
            for sample in metric.samples
        }
    finally:
        client.close()
    assert {partition for _, partition in gauges} == set(COUNTIES)
    assert set(gauges.values()) == {0}
