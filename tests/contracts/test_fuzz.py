"""Hostile input: whatever arrives, decode either accepts it or names the reason. Never crashes."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shouwang.contracts import MessageKind, Reason, Rejection, decode
from shouwang.contracts.examples import example

KINDS = [k.value for k in MessageKind]
SOURCES = {"event": "cam-01", "snapshot": "cam-01", "clip": "cam-01", "sensor": "sos-01"}

levels = st.one_of(
    st.sampled_from(["s1", "cam-01", "edge-01", "sos-01", "+", "#", "", "x" * 70, "站点"]),
    st.text(min_size=0, max_size=12),
)
topics = st.one_of(
    st.builds(
        lambda kind, site: f"shouwang/v1/{site}/{SOURCES.get(kind, 'edge-01')}/{kind}",
        st.sampled_from(KINDS),
        st.sampled_from(["s1", "s2"]),
    ),
    st.lists(levels, min_size=0, max_size=7).map("/".join),
    st.builds(lambda a, b, c, d: f"shouwang/{a}/{b}/{c}/{d}", levels, levels, levels, levels),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _valid(kind: str) -> dict[str, Any]:
    return example(MessageKind(kind), site="s1", source=SOURCES.get(kind, "edge-01")).model_dump(
        mode="json"
    )


@st.composite
def mutated_messages(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid message with some fields deleted, replaced or added."""
    kind = draw(st.sampled_from(KINDS))
    payload = _valid(kind)
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from([*payload.keys(), "extra"]))
        action = draw(st.sampled_from(["delete", "replace"]))
        if action == "delete":
            payload.pop(key, None)
        else:
            payload[key] = draw(json_values)
    topic = f"shouwang/v1/s1/{SOURCES.get(kind, 'edge-01')}/{kind}"
    return topic, json.dumps(payload, allow_nan=True).encode()


payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.text(max_size=200).map(str.encode),
)


def _check(topic: str, payload: bytes) -> None:
    try:
        decode(topic, payload)
    except Rejection as rejection:
        assert isinstance(rejection.reason, Reason)
        assert rejection.detail


@pytest.mark.slow
@settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topics, payloads)
def test_random_topics_and_payloads_are_accepted_or_rejected_with_a_reason(
    topic: str, payload: bytes
) -> None:
    _check(topic, payload)


@pytest.mark.slow
@settings(max_examples=6000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_messages())
def test_mutated_valid_messages_are_accepted_or_rejected_with_a_reason(
    message: tuple[str, bytes],
) -> None:
    _check(*message)
