"""Fixtures for the records tests."""

from tests.records.databases import database_url, engine, sessions

__all__ = ["database_url", "engine", "sessions"]
