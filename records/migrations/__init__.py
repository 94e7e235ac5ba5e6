"""Alembic migrations of the records schema (run with `shouwang db upgrade`)."""
