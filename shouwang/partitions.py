"""Partitions: the share of the events an entry belongs to, and the Redis names that keep a
partition's stream, de-duplication keys and timers in one Redis Cluster hash slot.

With partitions off (the default) there is one partition under the plain names
(`shouwang:events`, `shouwang:seen:<key>`, `shouwang:rules:escalations`). With them on, the
partition is read off the site id (by default its county part: `tongren-bijiang-01` →
`bijiang`) and goes into every name as a hash tag: `shouwang:events:{bijiang}`,
`shouwang:seen:{bijiang}:<key>`, `shouwang:rules:{bijiang}:escalations`. Why and how:
docs/operations.md, "City scale".
"""

import re
from functools import lru_cache

from shouwang.settings import PartitionSettings


def in_partition(name: str, partition: str | None) -> str:
    """`name` for `partition`: `<name>:{<partition>}`, or `name` itself with one partition."""
    return name if partition is None else f"{name}:{{{partition}}}"


class Partitioner:
    """Which partition a site's entries belong to (None: partitions are off)."""

    def __init__(self, settings: PartitionSettings) -> None:
        self.enabled = settings.enabled
        self.by_site = settings.key == "site"
        self.pattern = re.compile(settings.county_pattern)
        self.of = lru_cache(maxsize=65_536)(self._of)

    def _of(self, site: str) -> str | None:
        if not self.enabled:
            return None
        if self.by_site:
            return site
        found = self.pattern.match(site)
        return found.group(1) if found and found.group(1) else site

    def name(self, base: str, site: str) -> str:
        """`base` (a stream or key prefix) in the partition of `site`."""
        return in_partition(base, self.of(site))
