"""Command-line app of the rules engine (`shouwang rules run`, `shouwang rules check FILE`);
heavy imports happen inside the commands."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from shouwang.cli_helpers import ConfigOption, JsonLogsOption, fail

rules_app = typer.Typer(help="The rules engine: events → watch lists and rules → alerts.")


@rules_app.command("run")
def run(
    config: ConfigOption = None,
    consumer: Annotated[
        str | None, typer.Option(help="This worker's consumer name (default: rules.consumer).")
    ] = None,
    json_logs: JsonLogsOption = None,
) -> None:
    """Consume the events stream as one worker of the `rules` consumer group."""
    from records.migrate import SchemaOutdated
    from rules.config import RulesSettings
    from rules.definitions import RulesError, load_rules
    from rules.metrics import serve_metrics
    from rules.service import build_consumer, run_worker
    from shouwang.logs import configure_logging
    from shouwang.metrics_http import MetricsPortBusy
    from shouwang.settings import ConfigError

    overrides = {"rules": {"consumer": consumer}} if consumer else {}
    try:
        settings = RulesSettings.load(config, **overrides)
        worker = build_consumer(settings, load_rules(settings.rules.file))
        serve_metrics(worker, settings.rules.metrics_port)
    except (ConfigError, RulesError, SchemaOutdated, MetricsPortBusy) as exc:
        raise fail(str(exc)) from None
    configure_logging(settings.log_level, json_logs)
    run_worker(worker)


@rules_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Rule file (YAML) to validate.")],
) -> None:
    """Validate a rule file and list its rules; every problem is shown with line and key."""
    from rich.table import Table

    from rules.definitions import RulesError, load_rules

    try:
        rules = load_rules(file)
    except RulesError as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"{file}: {len(rules.enabled())} rule(s) enabled")
    for column in ("rule", "matches", "severity", "notify", "escalation", "cooldown"):
        table.add_column(column)
    for rule in rules.rules:
        match = rule.match
        matches = f"{match.kind.value}: {', '.join(match.types) or 'any'}"
        if match.hold_s:
            matches += f" for {match.hold_s:g} s"
        if match.silent_s:
            matches += f", silent {match.silent_s:g} s"
        if match.kind.value == "absence" and match.windows:
            matches += ", " + ", ".join(f"{w.start:%H:%M}-{w.end:%H:%M}" for w in match.windows)
        ladder = ", ".join(f"{s.after_s:g}s→{'+'.join(s.notify)}" for s in rule.alert.escalation)
        table.add_row(
            rule.id if rule.enabled else f"{rule.id} (disabled)",
            matches,
            rule.alert.severity.value,
            ", ".join(rule.alert.notify) or "-",
            ladder or "-",
            f"{rule.alert.cooldown_s:g} s",
        )
    Console(width=160).print(table)
