"""Fixtures for the records tests."""

from tests.records.databases import database_url, engine, sessions
from tests.records.redis_fixtures import names, redis_client

__all__ = ["database_url", "engine", "names", "redis_client", "sessions"]
