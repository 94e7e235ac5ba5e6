"""Alert actions on a real Redis Cluster with partitions: the timer changes an action writes to
the outbox reach its alert's partition — on whichever master serves that slot — in the same
pipeline as the live-feed entries, whether the action publishes them at once or the sweep
does after Redis was away."""

import pytest
import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry
from sqlalchemy.orm import Session, sessionmaker

from records.feed import AlertChange
from records.lifecycle import change_status
from records.outbox import OutputStreams, publish_pending
from records.timers import escalation_timers, lifecycle_timers
from records.types import AlertStatus
from shouwang.partitions import Partitioner, in_partition
from shouwang.redis_keys import ALERTS_STREAM, RULES_PREFIX
from shouwang.settings import PartitionSettings
from tests.city.conftest import COUNTIES
from tests.helpers.redis_cluster import RedisClusterNodes
from tests.records.databases import database_url, engine, sessions
from tests.records.test_lifecycle import T0, new_alert

__all__ = ["database_url", "engine", "sessions"]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_actions_timers_reach_its_partition_on_its_master(
    cluster: RedisClusterNodes, sessions: sessionmaker[Session]
) -> None:
    client = RedisCluster.from_url(cluster.url, decode_responses=True)
    away = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    partitioner = Partitioner(PartitionSettings(enabled=True))
    alerts = {county: new_alert(sessions, site=f"tongren-{county}-01") for county in COUNTIES}
    prefixes = {county: in_partition(RULES_PREFIX, county) for county in COUNTIES}
    masters = {cluster.master_of(prefix).port for prefix in prefixes.values()}
    assert len(masters) == 3, "the partitions are spread over every master"
    for county, alert_id in alerts.items():
        escalation_timers(client, prefixes[county]).schedule(str(alert_id), 10**13)
    try:
        for index, alert_id in enumerate(alerts.values()):
            change_status(  # the first published at once, the others left by Redis being away
                sessions,
                client if index == 0 else away,
                alert_id,
                AlertStatus.ACKNOWLEDGED,
                actor="值班员",
                expected_version=1,
                partitioner=partitioner,
                now=T0,
            )
        assert publish_pending(sessions, client, OutputStreams()) == 3 * (len(COUNTIES) - 1)
        for county, alert_id in alerts.items():
            assert escalation_timers(client, prefixes[county]).due_ms(str(alert_id)) is None
            due = lifecycle_timers(client, prefixes[county]).due_ms(str(alert_id))
            assert due == int(T0.timestamp() * 1000), county
        changes = [AlertChange.from_fields(f) for _, f in client.xrange(ALERTS_STREAM)]
        assert [c.alert_id for c in changes] == list(alerts.values())
        assert [c.seq for c in changes] == sorted(c.seq or 0 for c in changes)
    finally:
        client.close()
