"""Partitions: which partition a site belongs to, and names that share a Redis Cluster slot."""

import pytest
from redis.crc import key_slot

from shouwang.partitions import Partitioner, in_partition
from shouwang.redis_keys import EVENTS_STREAM, RULES_PREFIX, rules_key, seen_key
from shouwang.settings import ConfigError, PartitionSettings, ServiceSettings


def test_one_partition_under_the_plain_names_by_default() -> None:
    partitioner = Partitioner(PartitionSettings())
    assert partitioner.of("tongren-bijiang-01") is None
    assert partitioner.name(EVENTS_STREAM, "tongren-bijiang-01") == "shouwang:events"
    assert seen_key("event:e1") == "shouwang:seen:event:e1"
    assert rules_key("escalations") == "shouwang:rules:escalations"


def test_the_county_part_of_the_site_id_names_the_partition() -> None:
    partitioner = Partitioner(PartitionSettings(enabled=True))
    assert partitioner.of("tongren-bijiang-01") == "bijiang"
    assert partitioner.of("tongren-wanshan-117") == "wanshan"
    # A site id without a county part is a partition of its own.
    assert partitioner.of("demo") == "demo"
    assert partitioner.name(EVENTS_STREAM, "tongren-bijiang-01") == "shouwang:events:{bijiang}"


def test_the_whole_site_id_or_a_deployment_pattern() -> None:
    by_site = Partitioner(PartitionSettings(enabled=True, key="site"))
    assert by_site.of("tongren-bijiang-01") == "tongren-bijiang-01"
    # Sites named `<county code>_<n>` (the GB/T 2260 county code first).
    coded = Partitioner(PartitionSettings(enabled=True, county_pattern=r"^(\d{6})_"))
    assert coded.of("520603_0042") == "520603"


def test_a_partition_keeps_its_stream_keys_and_timers_in_one_slot() -> None:
    partition = "bijiang"
    prefix = in_partition(RULES_PREFIX, partition)
    names = [
        in_partition(EVENTS_STREAM, partition),
        seen_key("event:0b7e-…", partition),
        rules_key("escalations", prefix),
        rules_key("holds:data", prefix),
        rules_key("ends:fall:cam-01:7", prefix),
        rules_key("failures:rules", prefix),
    ]
    assert names[:3] == [
        "shouwang:events:{bijiang}",
        "shouwang:seen:{bijiang}:event:0b7e-…",
        "shouwang:rules:{bijiang}:escalations",
    ]
    assert len({key_slot(name.encode()) for name in names}) == 1
    assert key_slot(in_partition(EVENTS_STREAM, "wanshan").encode()) != key_slot(names[0].encode())


def test_a_pattern_without_a_group_is_refused_with_where() -> None:
    with pytest.raises(ConfigError, match=r"partitions\.county_pattern: .*needs a group"):
        ServiceSettings.load(None, partitions={"enabled": True, "county_pattern": "^[a-z]+"})
    with pytest.raises(ConfigError, match="not a regular expression"):
        ServiceSettings.load(None, partitions={"county_pattern": "(["})
