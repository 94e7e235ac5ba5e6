"""Run the system benchmarks and print their results against baselines of the same run.

    python -m benchmarks [--quick] [--only NAME,…] [--skip NAME,…] [--repeat N] [--json FILE]
                         [--markdown FILE] [--database URL] [--list]

Benchmarks (in this order): accuracy, edge, clips, cameras, ingest, pipeline, e2e, gb28181,
bridge
(`--list` describes them).
Each measures its baseline in the same run on the same machine, so the ratios hold on a
shared, noisy box better than the absolute figures; `--repeat N` runs everything N times and
shows the median with the range. Needs Mosquitto and Redis on 127.0.0.1 (the broker instances
are private ones on free ports), the committed models, and for the full edge figure the dev
clips in ../shared/data (else the sample videos). See docs/benchmarks.md.
"""

import argparse
import os
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from benchmarks.report import Measure, combine, machine, markdown, table, write_json
from benchmarks.suite import BENCHMARKS, Benchmark, Options
from shouwang.logs import configure_logging

console = Console()
if not console.is_terminal:  # a log or a pipe: wide enough for the table
    console = Console(width=160)


def names(text: str) -> list[str]:
    """A comma-separated list of benchmark names, checked."""
    chosen = [n.strip() for n in text.split(",") if n.strip()]
    known = {b.name for b in BENCHMARKS}
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return chosen


def select(only: list[str] | None, skip: list[str] | None) -> list[Benchmark]:
    return [
        b
        for b in BENCHMARKS
        if (only is None or b.name in only) and (skip is None or b.name not in skip)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the system benchmarks; print ratios against same-run baselines.",
    )
    parser.add_argument("--quick", action="store_true", help="smaller, shorter runs")
    parser.add_argument("--only", type=names, help="comma-separated benchmarks to run")
    parser.add_argument("--skip", type=names, help="comma-separated benchmarks to leave out")
    parser.add_argument("--repeat", type=int, default=1, help="run everything N times")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    parser.add_argument(
        "--database", help="SQLAlchemy URL for rules and notifier (default: temporary SQLite)"
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    chosen = select(args.only, args.skip)
    if args.list:
        for bench in BENCHMARKS:
            quick, full = bench.minutes
            console.print(f"{bench.name:9} {bench.about} (~{quick:g} min quick, ~{full:g} min)")
        return 0
    if not chosen:
        parser.error("nothing to run")
    configure_logging("WARNING")
    options = Options(quick=args.quick, database=args.database)
    started = datetime.now(UTC)
    host = machine()
    runs: list[list[Measure]] = []
    errors: dict[str, str] = {}
    loads: dict[str, list[float]] = {}
    """The machine's 1-minute load average before and after each benchmark: how shared it was."""
    for repeat in range(1, args.repeat + 1):
        for bench in chosen:
            label = f"{bench.name} (run {repeat}/{args.repeat})" if args.repeat > 1 else bench.name
            console.rule(label)
            before = os.getloadavg()[0]
            try:
                runs.append(bench.run(options))
            except Exception as exc:  # report it and go on with the others
                console.print(traceback.format_exc(), style="red", markup=False, highlight=False)
                errors[f"{bench.name}#{repeat}"] = f"{type(exc).__name__}: {exc}"
            after = os.getloadavg()[0]
            loads[f"{bench.name}#{repeat}"] = [round(before, 2), round(after, 2)]
            console.print(
                f"[dim]load average (1 min): {before:.2f} before, {after:.2f} after[/dim]"
            )
    summaries = combine(runs)
    title = (
        f"Shouwang system benchmarks — {host['cores']} cores ({host['cpu']}), "
        f"{args.repeat} run{'s' if args.repeat > 1 else ''}{', quick' if args.quick else ''}"
    )
    console.print(table(summaries, title))
    for name, error in errors.items():
        console.print(f"[red]{name} failed:[/red] {error}")
    if args.json:
        write_json(
            args.json,
            summaries,
            options={
                "quick": args.quick,
                "repeat": args.repeat,
                "benchmarks": [b.name for b in chosen],
                "database": "postgresql" if args.database else "sqlite",
            },
            errors=errors,
            started=started,
            host={**host, "load_average_per_benchmark": loads},
        )
        console.print(f"results written to {args.json}")
    if args.markdown:
        args.markdown.write_text(markdown(summaries), encoding="utf-8")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
