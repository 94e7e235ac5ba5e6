"""The rule file: the default set is valid and complete; mistakes are reported with the file,
line, rule and key; `rules check` shows both."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rules.cli import rules_app
from rules.definitions import Kind, RulesError, load_rules, parse_rules
from tests.rules.conftest import DEFAULT_RULES

runner = CliRunner()
GOOD = """
rules:
  - id: r1
    match: {types: [fall]}
    alert: {severity: high, title: t}
"""


def test_default_rule_set_covers_every_case_of_the_issue() -> None:
    rules = load_rules(DEFAULT_RULES)
    by_id = {rule.id: rule for rule in rules.enabled()}
    assert set(by_id) == {
        "elder_fall",
        "elder_person_down",
        "elder_long_lie",
        "child_unattended_hazard",
        "night_loitering_watched_household",
        "elder_inactivity",
        "sos_button",
        "smoke",
        "high_water_level",
        "edge_offline",
        "camera_offline",
        "water_leak",
        "elder_no_morning_activity",
        "elder_no_activity_day",
        "sensor_offline",
        "sensor_battery_low",
        # Camera-native analytics (GB/T 28181, Hikvision, Dahua): issue 14.
        "camera_intrusion_watched_child_night",
        "camera_crowd",
        "camera_tamper",
        "camera_fault",
    }
    intrusion = by_id["camera_intrusion_watched_child_night"]
    assert intrusion.alert.severity.value == "critical"
    assert intrusion.match.watchlist is not None
    assert [c.value for c in intrusion.match.watchlist.categories] == ["child"]
    assert by_id["camera_tamper"].alert.notify == ["grid_worker"]
    assert by_id["camera_fault"].alert.notify == ["grid_worker"]
    morning = by_id["elder_no_morning_activity"].match
    assert (morning.kind, morning.types, morning.cameras) == (
        Kind.ABSENCE,
        ["door_contact", "motion"],
        ["home"],
    )
    assert by_id["sensor_offline"].match.report_interval_s == {
        "default": 90000,
        "temperature": 10800,
    }
    fall = by_id["elder_fall"]
    assert fall.alert.severity.value == "critical"
    assert fall.alert.notify == ["guardians", "grid_worker", "duty_officer"]
    assert [(s.after_s, s.notify) for s in fall.alert.escalation] == [
        (60, ["grid_worker"]),
        (180, ["duty_officer@town"]),
        (300, ["police"]),
    ]
    night = by_id["night_loitering_watched_household"].match.windows[0]
    assert night.window().overnight
    assert by_id["edge_offline"].match.kind is Kind.STATUS and by_id["edge_offline"].match.hold_s


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: [1, 2\n", "is not valid YAML"),
        ("- a list\n", "must hold a mapping"),
        ("rules: []\nextra: 1\n", "<rules>:2: extra: Extra inputs are not permitted"),
        (
            GOOD.replace("types: [fall]", "types: [fell]"),
            "<rules>:4: rules[0] (r1).match.types: unknown event type(s) fell; known: camera_",
        ),
        (
            GOOD.replace("{types: [fall]}", "{windows: [{start: 21:00, end: 21:00}]}"),
            "rules[0] (r1).match.windows[0]: start equals end",
        ),
        (
            GOOD.replace("{types: [fall]}", "{windows: [{start: '25:00', end: 06:00}]}"),
            "rules[0] (r1).match.windows[0].start: '25:00' is not a time of day HH:MM",
        ),
        (
            GOOD.replace("{types: [fall]}", "{watchlist: {categories: [adult]}}"),
            "match.watchlist.categories[0]: Input should be 'elder' or 'child'",
        ),
        (
            GOOD.replace("{types: [fall]}", "{watchlist: {min_risk_level: 7}}"),
            "match.watchlist.min_risk_level: Input should be less than or equal to 4",
        ),
        (
            GOOD.replace("{types: [fall]}", "{kind: sensor, hold_s: 60}"),
            "hold_s needs an episode that ends",
        ),
        (GOOD.replace("{types: [fall]}", "{phases: [end]}"), "an `end` never raises alerts"),
        (GOOD.replace("{types: [fall]}", "{value: true}"), "value and battery_pct apply to kind"),
        (
            GOOD.replace("{types: [fall]}", "{attributes: {down_s: [1]}}"),
            "match.attributes.down_s: must be a value (number, true/false, text) or a mapping",
        ),
        (
            GOOD.replace("title: t", "title: t, notify: [mayor]"),
            "alert.notify[0]: unknown recipient 'mayor'",
        ),
        (GOOD.replace("title: t", "title: '{who}'"), "unknown placeholder(s) who in title"),
        (
            GOOD.replace(
                "title: t",
                "title: t, escalation: [{after_s: 60, notify: [police]}, "
                "{after_s: 30, notify: [police]}]",
            ),
            "strictly increasing after_s",
        ),
        (
            GOOD.replace("{types: [fall]}", "{kind: status}").replace(
                "title: t", "title: t, notify: [guardians]"
            ),
            "guardians cannot be notified",
        ),
        (GOOD + GOOD.split("rules:\n")[1], "rule id 'r1' is used twice"),
    ],
)
def test_mistakes_are_reported_with_where_and_why(text: str, expected: str) -> None:
    with pytest.raises(RulesError) as error:
        parse_rules(text)
    assert expected in str(error.value)


def test_every_problem_is_listed_at_once() -> None:
    text = GOOD.replace("severity: high", "severity: huge").replace("[fall]", "[fell]")
    with pytest.raises(RulesError) as error:
        parse_rules(text)
    message = str(error.value)
    assert "2 problem(s)" in message
    assert "<rules>:5: rules[0] (r1).alert.severity" in message


def test_rules_survive_a_round_trip_through_their_plain_form() -> None:
    for rule in load_rules(DEFAULT_RULES).rules:
        assert type(rule.match).model_validate(rule.match.model_dump()) == rule.match, rule.id


def test_check_command_lists_the_rules(tmp_path: Path) -> None:
    result = runner.invoke(rules_app, ["check", str(DEFAULT_RULES)])
    assert result.exit_code == 0, result.output
    assert "20 rule(s) enabled" in result.output and "edge_offline" in result.output
    assert "07:00-11:00" in result.output


def test_check_command_fails_with_the_problems(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(GOOD.replace("[fall]", "[fell]"))
    result = runner.invoke(rules_app, ["check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4: rules[0] (r1).match.types: unknown event type" in result.output
    missing = runner.invoke(rules_app, ["check", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_run_refuses_bad_settings_a_bad_rule_file_and_an_unmigrated_database(
    tmp_path: Path,
) -> None:
    bad_setting = tmp_path / "a.yaml"
    bad_setting.write_text("rules:\n  max_failures: 0\n")
    result = runner.invoke(rules_app, ["run", "-c", str(bad_setting)])
    assert result.exit_code == 2 and "rules.max_failures: Input should be greater" in result.output
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(GOOD.replace("[fall]", "[fell]"))
    bad_rules = tmp_path / "b.yaml"
    bad_rules.write_text(f"rules:\n  file: {rules_file}\n")
    result = runner.invoke(rules_app, ["run", "-c", str(bad_rules)])
    assert result.exit_code == 2 and "unknown event type(s) fell" in result.output
    empty_db = tmp_path / "c.yaml"
    empty_db.write_text(
        f"database:\n  url: sqlite:///{tmp_path}/empty.sqlite3\nrules:\n  file: {DEFAULT_RULES}\n"
    )
    result = runner.invoke(rules_app, ["run", "-c", str(empty_db)])
    assert result.exit_code == 2 and "run `shouwang db upgrade`" in result.output
