"""Property-based fuzzing of every operation of the OpenAPI schema with schemathesis (as an
admin, a grid worker and a guardian, on SQLite and PostgreSQL): whatever the input, never a
5xx. The live feed is left out (an endless stream; tests/api/test_feed.py covers it).

Hypothesis drives each operation's strategy directly (schemathesis' pytest plugin and this
pytest version disagree about test ids)."""

import pytest
import redis
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy.orm import Session, sessionmaker

from alert_api.context import AppContext
from records.outbox import OutputStreams
from tests.api.builders import GRID_1, GRID_2, Users, bearer, raise_alert

pytestmark = pytest.mark.slow
ROLES = ("admin", "grid1_worker", "wang_li")
EXAMPLES = 15


def test_no_input_makes_the_api_fail(
    app: FastAPI,
    context: AppContext,
    village: Users,
    sessions: sessionmaker[Session],
    redis_client: redis.Redis,
    streams: OutputStreams,
) -> None:
    for persons, grid in ((("P001",), GRID_1), (("P002",), GRID_2), (("P003",), GRID_2)):
        raise_alert(
            sessions,
            redis_client,
            streams,
            person_codes=persons,
            grid=grid,
            snapshot_dir=context.settings.api.snapshot_dir,
        )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/api/feed")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case: schemathesis.Case) -> None:
            for role in ROLES:
                # A fresh token per call: fuzzing sign-out or a password change must not end
                # the session the other calls use.
                headers = bearer(context, getattr(village, role))
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

        fuzz()
