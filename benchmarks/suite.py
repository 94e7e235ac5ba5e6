"""The system benchmarks run by `python -m benchmarks`: each runs one benchmark module and
returns its figures as measures against the baseline that module measured in the same run."""

import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from benchmarks import (
    bridge_throughput,
    edge_accuracy,
    edge_capacity,
    edge_clips,
    edge_throughput,
    end_to_end,
    gb28181_throughput,
    ingest_throughput,
    pipeline,
)
from benchmarks.ingest_throughput import percentile
from benchmarks.report import Measure
from tests.helpers.mosquitto import running_mosquitto

console = Console()
if not console.is_terminal:  # a log or a pipe: as wide as the results table
    console = Console(width=160)


@dataclass(frozen=True)
class Options:
    """What every benchmark is asked for."""

    quick: bool = False
    database: str | None = None
    """SQLAlchemy URL for the rules and the notifier (default: a temporary SQLite file)."""

    def say(self, text: str) -> None:
        console.print(f"[dim]{text}[/dim]")


@dataclass(frozen=True)
class Benchmark:
    name: str
    about: str
    minutes: tuple[float, float]
    """Rough duration on a 2-core box: (quick, full)."""
    run: Callable[[Options], list[Measure]]


def edge_fps(options: Options) -> list[Measure]:
    """Camera pipeline vs bare onnxruntime on the same sampled frames."""
    threads, size = 2, 416
    videos = edge_throughput.clip_paths(every=5 if options.quick else 1)
    options.say(f"edge: {len(videos)} clips, frames sampled at 5 fps: bare, pipeline, analyze …")
    total = edge_throughput.measure(videos, edge_throughput.settings_for(threads, size), 5.0)
    bare = total.fps(total.bare_s)
    piped = total.fps(total.pipeline_s)
    return [
        Measure(
            key="edge.fps",
            group="edge",
            what=f"camera pipeline frames/s (pose model, {threads} threads, input {size})",
            value=piped,
            unit="fps",
            baseline=bare,
            baseline_what="bare onnxruntime",
            target="≥ 0.9×",
            met=piped / bare >= 0.9,
            detail=f"{total.frames:,} frames of {len(videos)} clips at 5 fps; `edge analyze` "
            f"from the files (decode, motion gate): {total.fps(total.analyze_s):.1f} fps",
        )
    ]


def clips(options: Options) -> list[Measure]:
    """CPU of the camera pipeline with the evidence-clip ring buffer vs without it."""
    passes = 2 if options.quick else 4
    options.say(f"clips: the yard sample at 5 fps, pipeline with and without the ring, {passes}×")
    result = edge_clips.measure(passes, edge_clips.quick_frames(options.quick))
    ring = result.per_frame_ms(result.ring_s)
    return [
        Measure(
            key="edge.clip_ring",
            group="edge",
            what="camera pipeline with the clip ring buffer, CPU per analysed frame",
            value=result.per_frame_ms(result.with_ring_s),
            unit="ms",
            baseline=result.per_frame_ms(result.pipeline_s),
            baseline_what="the pipeline without it",
            detail=f"{result.frames} frames × {passes}; the ring itself {ring:.1f} ms a frame "
            f"({ring * 5 / 10:.1f} % of a core at 5 fps); it holds {result.ring_frames} frames, "
            f"{result.ring_bytes / 1e6:.1f} MB; a {result.clip_seconds:.0f} s clip is "
            f"{result.clip_bytes / 1e3:.0f} kB, {1000 * result.clip_s:.0f} ms CPU to encode",
        )
    ]


def cameras(options: Options) -> list[Measure]:
    """Most cameras sustained at 5 detect-fps with 10% motion duty, and CPU per camera."""
    with tempfile.TemporaryDirectory() as folder:
        found = edge_capacity.measure(Path(folder), quick=options.quick, say=options.say)
    top, failure = found.sustained, found.first_failure
    count = top.cameras if top else 0
    scene = (
        f"640×360 25 fps H.264 at {found.bitrate_kbps:.0f} kbit/s, motion in "
        f"{100 * found.motion_share:.0f}% of sampled frames"
    )
    limit = (
        f"{failure.cameras}: {'; '.join(failure.problems)}, box {100 * failure.box_busy:.0f}% busy"
        if failure
        else "the search's upper bound"
    )
    measures = [
        Measure(
            key="edge.cameras",
            group="edge",
            what=f"cameras sustained at 5 detect-fps, 10% motion ({found.cores} cores)",
            value=count,
            unit="cameras",
            baseline=found.decode_bound,
            baseline_what="decode only",
            detail=f"{scene}; both models; not sustained at {limit}",
        )
    ]
    if top is not None:
        measures.append(
            Measure(
                key="edge.cpu_per_camera",
                group="edge",
                what=f"CPU per camera at {top.cameras} cameras",
                value=100 * top.cpu_per_camera,
                unit="% of a core",
                baseline=100 * found.decode_cpu,
                baseline_what="decode only",
                detail=f"agent {top.cpu_cores:.2f} cores, peak RSS {top.rss_mb:.0f} MB, slowest "
                f"camera {top.min_fps:.2f} fps, box {100 * top.box_busy:.0f}% busy (all users)",
            )
        )
    return measures


def ingest(options: Options) -> list[Measure]:
    """Ingest drain rate vs a raw subscriber; publish → XADD latency vs broker delivery."""
    events, seconds, rate = (5_000, 3.0, 1000.0) if options.quick else (20_000, 10.0, 1000.0)
    with (
        tempfile.TemporaryDirectory() as folder,
        running_mosquitto(Path(folder) / "broker", tuned=True) as broker,
    ):
        options.say(f"ingest: draining {events:,} queued events: raw subscriber, then ingest …")
        raw = ingest_throughput.measure_raw(broker.port, events)
        drained, stored = ingest_throughput.measure_ingest(broker.port, events, 1, Path(folder))
        options.say(f"ingest: latency at {rate:.0f}/s for {seconds:.0f} s …")
        messages = ingest_throughput.event_lines("rawlat", int(rate * seconds), stamp_now=True)
        baseline = ingest_throughput.raw_latencies(broker.port, messages, rate)
        latency = ingest_throughput.measure_latency(broker.port, rate, seconds, Path(folder))
    return [
        Measure(
            key="ingest.rate",
            group="ingest",
            what=f"ingest drain rate, {events:,} events queued at the broker (1 worker)",
            value=drained,
            unit="events/s",
            baseline=raw,
            baseline_what="raw subscriber",
            target="≥ 0.5× and ≥ 5,000/s",
            met=drained >= 0.5 * raw and drained >= 5000,
            detail=stored,
        ),
        Measure(
            key="ingest.p99",
            group="ingest",
            what=f"publish → XADD p99 at {rate:,.0f} events/s",
            value=latency["p99_ms"],
            unit="ms",
            baseline=percentile(baseline, 0.99),
            baseline_what="raw subscriber",
            detail=f"p50 {latency['p50_ms']:.1f} ms (raw subscriber "
            f"{percentile(baseline, 0.5):.1f} ms); {latency['stored']}/{latency['sent']} stored",
        ),
    ]


def back_office(options: Options) -> list[Measure]:
    """MQTT → ingest → rules → alert committed: drain rate and latency at 1,000 events/s."""
    persons, events, seconds = (2_000, 3_000, 3.0) if options.quick else (10_000, 10_000, 10.0)
    rate = 1000.0
    result = pipeline.run(persons, events, rate, seconds, options.database, say=options.say)
    database = "PostgreSQL" if options.database else "SQLite"
    measures = [
        Measure(
            key="pipeline.rate",
            group="pipeline",
            what=f"ingest + rules drain rate, {events:,} events queued (1 worker each)",
            value=result.rate,
            unit="events/s",
            baseline=result.raw_rate,
            baseline_what="raw subscriber",
            detail=f"{database}, {persons:,} watched persons, 100 rules; the mix of "
            "benchmarks.rules_throughput (15% raise or update alerts)",
        )
    ]
    if result.latencies and result.raw_latencies:
        for q in (0.5, 0.99):
            measures.append(
                Measure(
                    key=f"pipeline.p{q * 100:.0f}",
                    group="pipeline",
                    what=f"publish → alert committed p{q * 100:.0f} at {rate:,.0f} events/s",
                    value=percentile(result.latencies, q),
                    unit="ms",
                    baseline=percentile(result.raw_latencies, q),
                    baseline_what="raw subscriber",
                    detail=f"{len(result.latencies):,} alert changes from {result.sent:,} events",
                )
            )
    return measures


def fall_to_push(options: Options) -> list[Measure]:
    """From the frame that confirms a fall to the guardian's Web Push request."""
    falls = 4 if options.quick else 20
    result = end_to_end.run(falls, 4.0, options.database, say=options.say)
    pushes = result.latencies("push")
    if not pushes:
        raise RuntimeError(f"no push arrived ({len(result.falls)}/{falls} falls confirmed)")
    stages = ", ".join(
        f"{label} {statistics.median(values):.0f}"
        for stage, label in end_to_end.STAGES.items()
        if stage not in ("push", "hook") and (values := result.latencies(stage))
    )
    hooks = result.latencies("hook")
    slowest = max(result.falls, key=lambda f: f.ms(f.push) or 0.0)
    on_edge = slowest.ms(slowest.queued)
    tail = f"; slowest {slowest.ms(slowest.push):.0f} ms" + (
        f", {on_edge:.0f} of them on the edge" if on_edge is not None else ""
    )
    measures = []
    for q in (0.5, 0.99):
        measures.append(
            Measure(
                key=f"e2e.p{q * 100:.0f}",
                group="end to end",
                what=f"fall confirmed on the edge → guardian's Web Push p{q * 100:.0f}",
                value=percentile(pushes, q),
                unit="ms",
                baseline=percentile(result.floor, q),
                baseline_what="bare hops",
                target="within seconds (< 5 s)",
                met=percentile(pushes, q) < 5000,
                detail=(
                    f"{len(pushes)} of {result.staged} falls; medians from the frame (ms): "
                    f"{stages}; webhook p{q * 100:.0f} {percentile(hooks, q):.0f} ms{tail}"
                    if hooks
                    else f"{len(pushes)} of {result.staged} falls"
                ),
            )
        )
    return measures


def gb28181(options: Options) -> list[Measure]:
    """GB/T 28181 alarms into the stream vs a bare SIP responder; registering 10,000 devices."""
    alarms, devices = (1_000, 2_000) if options.quick else (5_000, 10_000)
    result = gb28181_throughput.run(alarms, devices, say=options.say)
    return [
        Measure(
            key="gb28181.alarms",
            group="cameras",
            what=f"GB/T 28181 alarms/s into the stream ({alarms:,} from sipp, one device)",
            value=result.gateway_rate,
            unit="alarms/s",
            baseline=result.bare_rate,
            baseline_what="bare SIP responder",
            detail=f"{result.stored:,}/{alarms:,} stored by ingest; 200 OK after the broker's "
            "PUBACK; the same sipp load answered at once by the bare responder",
        ),
        Measure(
            key="gb28181.register",
            group="cameras",
            what=f"GB/T 28181 devices registered/s ({devices:,} devices, digest)",
            value=result.register_rate,
            unit="devices/s",
            detail=f"{result.registered:,}/{devices:,} online statuses stored in "
            f"{devices / result.register_rate:.1f} s, 200 at a time",
        ),
    ]


def accuracy(options: Options) -> list[Measure]:
    """Falls found and false alarms per viewing condition; person_down held 30 s."""
    folder = edge_accuracy.data_dir(edge_accuracy.ROOT)
    if not (folder / "labels.csv").is_file():
        raise RuntimeError(f"no footage at {folder} (set SHOUWANG_DATA_DIR)")
    clips = edge_accuracy.load_clips(folder)
    names = ["held"] if options.quick else ["published", "held", "substream", "long_lie"]
    if options.quick:
        clips = clips[::5]
    options.say(f"accuracy: {len(clips)} clips × {', '.join(names)} (2 at a time) …")
    conditions = [edge_accuracy.CONDITIONS[n] for n in names]
    runs = edge_accuracy.run_all(clips, conditions, edge_accuracy.Options(), jobs=2)
    measures = []
    for name in names:
        t = edge_accuracy.totals(r for r in runs if r.condition == name)
        delay = f"median delay {t.median_delay:.1f} s; " if t.median_delay is not None else ""
        if t.falls:
            measures.append(
                Measure(
                    key=f"accuracy.{name}.falls",
                    group="accuracy",
                    what=f"falls found within [-1 s, +5 s], {name}",
                    value=100 * t.found / t.falls,
                    unit="%",
                    target="held ≥ 95%, sub-stream ≥ 90%",
                    detail=f"{t.found}/{t.falls} falls; {delay}false alarms on "
                    f"{t.fall_alarms}/{t.negatives} no-fall clips; CPU {t.cpu_s:.0f} s",
                )
            )
        if t.downs:
            measures.append(
                Measure(
                    key=f"accuracy.{name}.person_down",
                    group="accuracy",
                    what=f"person_down for people left on the floor, {name}",
                    value=100 * t.downs_raised / t.downs,
                    unit="%",
                    detail=f"{t.downs_raised}/{t.downs} raised; raised on "
                    f"{t.down_alarms}/{t.down_negatives} clips where nobody is down",
                )
            )
    return measures


def bridge(options: Options) -> list[Measure]:
    """Zigbee2MQTT messages through the sensor bridge vs a raw subscriber; its core alone."""
    messages = 2_000 if options.quick else 10_000
    result = bridge_throughput.run(messages, 1_000, say=options.say)
    return [
        Measure(
            key="bridge.readings",
            group="sensors",
            what=f"Zigbee2MQTT messages → readings/s through the bridge ({messages:,}, burst)",
            value=result.bridge_rate,
            unit="readings/s",
            baseline=result.raw_rate,
            baseline_what="raw subscriber",
            detail=f"{result.received:,}/{messages:,} readings received; each message "
            "acknowledged after its reading's PUBACK",
        ),
        Measure(
            key="bridge.core",
            group="sensors",
            what="bridge core: messages translated/s (payload → validated reading)",
            value=result.core_rate,
            unit="msg/s",
            baseline=result.parse_rate,
            baseline_what="json.loads alone",
        ),
    ]


BENCHMARKS = [
    Benchmark("accuracy", "falls and person_down per clip and condition", (3.0, 25.0), accuracy),
    Benchmark("edge", "edge pipeline frames/s vs bare onnxruntime", (1, 4), edge_fps),
    Benchmark("clips", "edge pipeline CPU with the clip ring buffer vs without", (1, 5), clips),
    Benchmark("cameras", "cameras per box at 5 fps, 10% motion", (2.0, 7.0), cameras),
    Benchmark("ingest", "ingest drain rate and latency vs the raw broker", (0.5, 1.0), ingest),
    Benchmark("pipeline", "ingest + rules vs the raw broker", (1.0, 2.0), back_office),
    Benchmark("e2e", "fall on the edge → push request", (1.0, 2.0), fall_to_push),
    Benchmark("gb28181", "GB/T 28181 alarms vs a bare SIP responder", (0.5, 1.0), gb28181),
    Benchmark(
        "bridge", "Zigbee2MQTT through the sensor bridge vs the raw broker", (0.3, 0.5), bridge
    ),
]
"""In the order they run and appear in the table."""
