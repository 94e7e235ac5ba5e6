"""`person_down` end to end: the edge's own fall analyser sees an elder lying on the floor of
her home camera without having seen the fall; its events go through the edge publisher, the
broker, an ingest process and a rules process with the default rules (configs/rules.yaml) and
the example village, and raise the alerts a duty officer is meant to get: "有人倒地超过 20 秒"
(high) after 20 s, "老人倒地一分钟未起" (critical) after the long lie, and nothing more when
she gets up."""

from pathlib import Path

import pytest
from sqlalchemy import select

from edge.analysers import FallAnalyser
from edge.config import FallConfig
from edge.events import EventFactory
from edge.zones import ZoneSet
from records.alerts import Alert, AlertEvent
from shouwang.contracts import BehaviourEvent
from tests.edge.test_fall import LYING, SIZE, STANDING, observation, span
from tests.faults.stack import EDGE, Stack, wait_until
from tests.faults.tally import settled
from tests.records.village import import_village

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DEFAULT_RULES = Path(__file__).parents[2] / "configs" / "rules.yaml"
CAMERA = "cam-home-wang"
"""The example village's camera in 王秀英's home (an elder on the watch list)."""


def edge_events(site: str) -> list[BehaviourEvent]:
    """What the edge sends for a scene: found lying at the start (the fall unseen), lying
    70 s, then up and walking."""
    analyser = FallAnalyser(FallConfig(update_s=30))
    factory = EventFactory(site, EDGE, CAMERA, None)
    zones = ZoneSet({}, SIZE)
    scene = span(0, 70, tracked={1: LYING}) + span(70, 80, tracked={1: STANDING})
    events = []
    for frame in scene:
        for finding in analyser.observe(observation(frame, zones)):
            events.append(factory.build(finding).event)
    return events


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_elder_found_on_the_floor_raises_high_then_critical(stack: Stack) -> None:
    stack.write_config(rules={"file": str(DEFAULT_RULES)})
    import_village(stack.sessions(read_only=False), site=stack.site)
    events = edge_events(stack.site)
    kinds = [(e.type.value, e.phase.value, e.attributes.get("long_lie")) for e in events]
    assert kinds[0] == ("person_down", "start", None)
    assert ("person_down", "update", True) in kinds and kinds[-1][:2] == ("person_down", "end")
    assert not [k for k in kinds if k[0] == "fall"], "no fall was seen, none is reported"

    stack.start_ingest()
    stack.start_rules()
    publisher = stack.publisher()
    for event in events:
        publisher.publish_event(event)
    settled(stack, events)

    def raised() -> list[tuple[str, str]]:
        with stack.sessions()() as session:
            rows = session.execute(select(Alert.rule_id, Alert.severity).order_by(Alert.id))
            return [(rule, severity.value) for rule, severity in rows]

    wait_until(lambda: len(raised()) >= 2, 60, "both alerts")
    assert raised() == [("elder_person_down", "high"), ("elder_long_lie", "critical")]
    with stack.sessions()() as session:
        alert = session.scalars(select(Alert).where(Alert.rule_id == "elder_person_down")).one()
        assert alert.title.startswith("有人倒地超过 20 秒")
        assert alert.condition_ended_at is not None, "she got up: the condition ended"
        phases = session.scalars(select(AlertEvent.phase).where(AlertEvent.alert_id == alert.id))
        assert set(phases) == {"start", "update", "end"}
