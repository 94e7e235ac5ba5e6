"""Results of the system benchmarks: one measure per row, each against a baseline measured in
the same run, shown as a rich table and written as JSON."""

import json
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Measure:
    """One figure of one run: what was measured, its value, and the baseline it is set against
    (`ratio` is value / baseline)."""

    key: str
    """Stable id, e.g. `edge.fps`; repeated runs are combined by key."""
    group: str
    what: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_what: str = ""
    target: str = ""
    met: bool | None = None
    detail: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline


@dataclass
class Summary:
    """A measure over one or more runs: the median and every value."""

    key: str
    group: str
    what: str
    unit: str
    values: list[float]
    baselines: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    baseline_what: str = ""
    target: str = ""
    met: list[bool] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def value(self) -> float:
        return statistics.median(self.values)

    @property
    def baseline(self) -> float | None:
        return statistics.median(self.baselines) if self.baselines else None

    @property
    def ratio(self) -> float | None:
        return statistics.median(self.ratios) if self.ratios else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "group": self.group,
            "what": self.what,
            "unit": self.unit,
            "value": self.value,
            "values": self.values,
            "baseline": self.baseline,
            "baselines": self.baselines,
            "baseline_what": self.baseline_what,
            "ratio": self.ratio,
            "ratios": self.ratios,
            "target": self.target,
            "met": self.met,
            "details": self.details,
        }


def combine(runs: list[list[Measure]]) -> list[Summary]:
    """Measures of every run grouped by key, in the order they first appeared."""
    summaries: dict[str, Summary] = {}
    for measures in runs:
        for measure in measures:
            summary = summaries.setdefault(
                measure.key,
                Summary(
                    measure.key,
                    measure.group,
                    measure.what,
                    measure.unit,
                    [],
                    baseline_what=measure.baseline_what,
                    target=measure.target,
                ),
            )
            summary.values.append(measure.value)
            if measure.baseline is not None:
                summary.baselines.append(measure.baseline)
            if measure.ratio is not None:
                summary.ratios.append(measure.ratio)
            if measure.met is not None:
                summary.met.append(measure.met)
            if measure.detail:
                summary.details.append(measure.detail)
    return list(summaries.values())


def number(value: float, unit: str = "", *, with_unit: bool = True) -> str:
    """A figure with as many digits as it deserves, and its unit."""
    size = abs(value)
    if unit == "cameras" and value == int(value):
        text = f"{int(value):,}"
    elif size >= 100:
        text = f"{value:,.0f}"
    elif size >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip() if with_unit else text


def spread(values: list[float], unit: str) -> str:
    """The median, with the range when several values differ."""
    text = number(statistics.median(values), unit)
    if min(values) != max(values):
        low, high = (number(v, unit, with_unit=False) for v in (min(values), max(values)))
        text += f" ({low}–{high})"
    return text


def ratio_text(summary: Summary) -> str:
    if not summary.ratios:
        return ""
    text = f"{summary.ratio:.2f}×"
    if len(summary.ratios) > 1:
        text += f" ({min(summary.ratios):.2f}–{max(summary.ratios):.2f})"
    return text


def verdict(summary: Summary) -> str:
    """The target and whether it was met (in how many runs, when some missed it)."""
    if not summary.target or not summary.met:
        return summary.target
    hits, runs = sum(summary.met), len(summary.met)
    if hits == runs:
        return f"{summary.target}: met"
    if hits == 0:
        return f"{summary.target}: missed"
    return f"{summary.target}: met in {hits}/{runs} runs"


def cells(summary: Summary) -> tuple[str, str, str, str, str]:
    """The measure (with its latest detail), result, baseline, ratio and target, as text."""
    measure = summary.what
    if summary.details:
        measure += f" — {summary.details[-1]}"
    baseline = summary.baseline_what
    if summary.baselines:
        baseline = f"{summary.baseline_what}: {spread(summary.baselines, summary.unit)}"
    return (
        measure,
        spread(summary.values, summary.unit),
        baseline,
        ratio_text(summary),
        verdict(summary),
    )


def table(summaries: list[Summary], title: str) -> Table:
    """The results as one table: measure, result, baseline of the same run, ratio, target."""
    result = Table(title=title, show_lines=True)
    result.add_column("benchmark")
    result.add_column("measure", ratio=3)
    result.add_column("result", justify="right", ratio=1)
    result.add_column("baseline (same run)", ratio=2)
    result.add_column("ratio", justify="right")
    result.add_column("target", ratio=1)
    for summary in summaries:
        measure, value, baseline, ratio, target = cells(summary)
        if summary.details:
            measure = f"{summary.what}\n[dim]{summary.details[-1]}[/dim]"
        result.add_row(summary.group, measure, value, baseline, ratio, target)
    return result


def markdown(summaries: list[Summary]) -> str:
    """The results as a Markdown table (for docs/benchmarks.md)."""
    lines = [
        "| benchmark | measure | result | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|---|",
    ]
    for summary in summaries:
        row = (summary.group, *cells(summary))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines) + "\n"


def machine() -> dict[str, Any]:
    """What the figures were measured on, and the code they were measured with."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        total_kb = int(meminfo.read_text().split()[1])
        memory_gb = round(total_kb / 1024 / 1024, 1)

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            )
        except OSError:
            return ""
        return done.stdout.rstrip()

    return {
        "cpu": model or platform.processor(),
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": [line[3:] for line in git("status", "--porcelain").splitlines()],
    }


def write_json(
    path: Path,
    summaries: list[Summary],
    *,
    options: dict[str, Any],
    errors: dict[str, str],
    started: datetime,
    host: dict[str, Any],
) -> None:
    """The results, the options and the machine, as JSON."""
    document = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": options,
        "machine": host,
        "measures": [s.as_dict() for s in summaries],
        "errors": errors,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
