"""Fall and person-down accuracy of `edge analyze` on every labelled clip, in every viewing
condition of the footage's MANIFEST, per clip and per group.

    .venv/bin/python -m benchmarks.edge_accuracy [--conditions published,held,substream,long_lie]
        [--jobs 2] [--clips SUBSTRING] [--json FILE] [--markdown FILE]
        [--input-size 416] [--fps 5] [--no-fall-model]

Falls are scored by the MANIFEST rule (a fall start within [-1 s, +5 s] of the label; any
fall start on a no-fall clip, or earlier than -1 s, is a false alarm) in every condition but
`long_lie`; `person_down` is scored in every condition against `benchmarks/footage_notes.csv`
(`down_at_end`: yes must raise it when the clip is held 30 s, no must never raise it; mat and
unclear are reported, not scored). Variants are made once with ffmpeg and cached
(`$SHOUWANG_FOOTAGE_CACHE`, default ~/.cache/shouwang/footage). CPU is the process time of
each clip's analysis (decoding included).
"""

import argparse
import csv
import json
import statistics
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edge.conditions import CONDITIONS, LONG_LIE, Condition, variant
from edge.evaluate import Clip, data_dir, load_clips, score
from shouwang.contracts import EventType, Phase

ROOT = Path(__file__).resolve().parents[1]
NOTES = Path(__file__).with_name("footage_notes.csv")
FALL_CONDITIONS = ("published", "held", "substream")


@dataclass(frozen=True, slots=True)
class Note:
    """What `footage_notes.csv` says of a clip: its set, its view, whether someone is down at
    its end."""

    set: str
    view: str
    down_at_end: str


@dataclass(frozen=True, slots=True)
class Options:
    """How each clip is analysed."""

    input_size: int = 416
    fps: float = 5.0
    fall_model: bool = True
    threads: int = 1


@dataclass(slots=True)
class Run:
    """One clip in one condition."""

    clip: str
    label: str
    condition: str
    set: str
    view: str
    down_at_end: str
    fall: str = ""
    """`detected`, `missed`, `false_alarm`, `ok`, or empty when falls are not scored."""
    delay_s: float | None = None
    fall_frames: list[int] = field(default_factory=list)
    down: str = ""
    """`raised`, `missed`, `false_alarm`, `ok`, or `seen` / `-` on clips not scored."""
    down_frames: list[int] = field(default_factory=list)
    cpu_s: float = 0.0
    frames: int = 0
    detections: int = 0
    second_opinions: int = 0
    closer_looks: int = 0
    error: str = ""


def load_notes() -> dict[str, Note]:
    """Notes per clip name (`fall/urfd-fall-01.mp4`)."""
    with NOTES.open(encoding="utf-8") as handle:
        return {
            row["file"]: Note(row["set"], row["view"], row["down_at_end"])
            for row in csv.DictReader(handle)
        }


def score_down(down_at_end: str, frames: list[int], condition: Condition) -> str:
    """`person_down` outcome: expected in the long-lie condition when someone is down at the
    end; never on a clip whose end shows nobody down."""
    if down_at_end == "no":
        return "false_alarm" if frames else "ok"
    if down_at_end == "yes" and condition.name == LONG_LIE.name:
        return "raised" if frames else "missed"
    return "seen" if frames else "-"


def analyse(clip: Clip, note: Note, condition: Condition, options: Options) -> Run:
    """Run the default pipeline over one clip's variant and score it."""
    from edge.analyze import VideoAnalysis, camera_for
    from edge.config import EdgeSettings

    run = Run(clip.name, clip.label, condition.name, note.set, note.view, note.down_at_end)
    try:
        video = variant(clip.path, condition)
    except Exception as exc:  # a clip that cannot be made is reported, the rest go on
        run.error = str(exc)
        return run
    settings = EdgeSettings.model_validate(
        {
            "detector": {
                "input_size": options.input_size,
                "threads": options.threads,
                "fall_model": {"enabled": options.fall_model},
            }
        }
    )
    camera = camera_for(video, settings, None).model_copy(update={"detect_fps": options.fps})
    analysis = VideoAnalysis(video, settings, camera)
    started = time.process_time()
    starts: dict[EventType, list[int]] = {EventType.FALL: [], EventType.PERSON_DOWN: []}
    for item in analysis.events():
        if item.event.phase == Phase.START and item.event.type in starts:
            starts[item.event.type].append(item.frame)
    run.cpu_s = time.process_time() - started
    stats = analysis.stats
    run.frames, run.detections = stats.frames, stats.detections
    run.second_opinions, run.closer_looks = stats.second_opinions, stats.closer_looks
    if condition.name in FALL_CONDITIONS:
        scaled = Clip(
            path=video,
            label=clip.label,
            event_start_frame=None
            if clip.event_start_frame is None
            else condition.frame_of(clip.event_start_frame, clip.fps),
            fps=condition.frame_rate(clip.fps),
            frames=clip.frames,
        )
        result = score(scaled, starts[EventType.FALL])
        run.fall, run.delay_s = result.outcome, result.delay_s
    run.fall_frames = starts[EventType.FALL]
    run.down_frames = starts[EventType.PERSON_DOWN]
    run.down = score_down(note.down_at_end, run.down_frames, condition)
    return run


def _analyse(job: tuple[Clip, Note, Condition, Options]) -> Run:
    return analyse(*job)


def run_all(
    clips: list[Clip], conditions: list[Condition], options: Options, jobs: int
) -> list[Run]:
    """Every clip in every condition, `jobs` at a time, printing each as it finishes."""
    notes = load_notes()
    missing = [c.name for c in clips if c.name not in notes]
    if missing:
        raise SystemExit(f"no row in {NOTES.name} for: {', '.join(missing)}")
    work = [(c, notes[c.name], k, options) for k in conditions for c in clips]
    runs: list[Run] = []
    print(f"{len(clips)} clips × {len(conditions)} conditions, {jobs} at a time", flush=True)
    print(f"{'condition':10} {'clip':52} {'fall':12} {'delay':>6} {'down':12} {'cpu s':>6}")
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for run in pool.map(_analyse, work):
            runs.append(run)
            delay = f"{run.delay_s:+.1f}" if run.delay_s is not None else ""
            status = run.error or f"{run.fall:12} {delay:>6} {run.down:12} {run.cpu_s:6.1f}"
            print(f"{run.condition:10} {run.clip:52} {status}", flush=True)
    return runs


@dataclass(frozen=True, slots=True)
class Totals:
    """Scores of a group of runs."""

    falls: int
    found: int
    fall_alarms: int
    negatives: int
    delays: tuple[float, ...]
    downs: int
    downs_raised: int
    down_alarms: int
    down_negatives: int
    cpu_s: float

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None


def totals(runs: Iterable[Run]) -> Totals:
    """Falls found and false alarms, person-down raised and false alarms, CPU."""
    runs = list(runs)
    fall_scored = [r for r in runs if r.fall]
    return Totals(
        falls=sum(r.label == "fall" for r in fall_scored),
        found=sum(r.fall == "detected" for r in fall_scored),
        fall_alarms=sum(r.fall == "false_alarm" for r in fall_scored),
        negatives=sum(r.label != "fall" for r in fall_scored),
        delays=tuple(r.delay_s for r in fall_scored if r.delay_s is not None),
        downs=sum(r.down in ("raised", "missed") for r in runs),
        downs_raised=sum(r.down == "raised" for r in runs),
        down_alarms=sum(r.down == "false_alarm" for r in runs),
        down_negatives=sum(r.down in ("false_alarm", "ok") for r in runs),
        cpu_s=sum(r.cpu_s for r in runs),
    )


def summary_rows(runs: list[Run]) -> list[tuple[str, str, Totals]]:
    """(condition, group, totals) for all clips, each set and each view."""
    rows = []
    for condition in dict.fromkeys(r.condition for r in runs):
        here = [r for r in runs if r.condition == condition]
        rows.append((condition, "all clips", totals(here)))
        for key in ("set", "view"):
            for value in sorted({getattr(r, key) for r in here}):
                group = [r for r in here if getattr(r, key) == value]
                rows.append((condition, f"{key} {value}", totals(group)))
    return rows


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "-"


def summary_table(runs: list[Run]) -> str:
    """Markdown table of the totals per condition and group."""
    lines = [
        "| condition | group | falls found | false alarms (no-fall clips) | median delay "
        "| person_down raised | person_down false alarms | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for condition, group, t in summary_rows(runs):
        delay = f"{t.median_delay:.1f} s" if t.median_delay is not None else "-"
        alarms = f"{t.fall_alarms}/{t.negatives}" if t.falls or t.negatives else "-"
        found = _share(t.found, t.falls) if t.falls or t.negatives else "-"
        lines.append(
            f"| {condition} | {group} | {found} | {alarms} | {delay} "
            f"| {_share(t.downs_raised, t.downs)} | {t.down_alarms}/{t.down_negatives} "
            f"| {t.cpu_s:.0f} |"
        )
    return "\n".join(lines)


def clip_table(runs: list[Run]) -> str:
    """Markdown table of every clip's outcome in every condition."""
    conditions = list(dict.fromkeys(r.condition for r in runs))
    by_clip: dict[str, dict[str, Run]] = {}
    for run in runs:
        by_clip.setdefault(run.clip, {})[run.condition] = run
    header = "| clip | view | " + " | ".join(conditions) + " | CPU s |"
    lines = [header, "|---|---|" + "---|" * len(conditions) + "---|"]
    for clip, per in by_clip.items():
        cells = []
        for condition in conditions:
            run = per.get(condition)
            if run is None:
                cells.append("")
            elif run.error:
                cells.append("error")
            else:
                fall = run.fall + (f" {run.delay_s:+.1f}s" if run.delay_s is not None else "")
                down = f"down {run.down}" if run.down not in ("-", "ok") else ""
                cells.append(" · ".join(p for p in (fall, down) if p) or "ok")
        view = next(iter(per.values())).view
        cpu = sum(r.cpu_s for r in per.values())
        lines.append(f"| {clip} | {view} | " + " | ".join(cells) + f" | {cpu:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run, print the per-clip and per-group tables, optionally write JSON and Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--jobs", type=int, default=2, help="clips analysed at a time")
    parser.add_argument("--clips", help="only clips whose name contains this")
    parser.add_argument("--json", type=Path, help="write every run as JSON")
    parser.add_argument("--markdown", type=Path, help="write both tables as Markdown")
    parser.add_argument("--input-size", type=int, default=416)
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--no-fall-model", action="store_true")
    args = parser.parse_args(argv)
    unknown = [c for c in args.conditions.split(",") if c not in CONDITIONS]
    if unknown:
        parser.error(f"unknown condition(s) {unknown}; known: {', '.join(CONDITIONS)}")
    conditions = [CONDITIONS[c] for c in args.conditions.split(",")]
    folder = data_dir(ROOT)
    if not (folder / "labels.csv").is_file():
        raise SystemExit(f"no footage at {folder} (set SHOUWANG_DATA_DIR)")
    clips = [c for c in load_clips(folder) if not args.clips or args.clips in c.name]
    options = Options(
        input_size=args.input_size,
        fps=args.fps,
        fall_model=not args.no_fall_model,
        threads=max(1, 2 // args.jobs),
    )
    runs = run_all(clips, conditions, options, args.jobs)
    summary, per_clip = summary_table(runs), clip_table(runs)
    print("\n" + summary + "\n")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=1), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(f"{summary}\n\n{per_clip}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
