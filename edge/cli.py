"""Command line of the edge agent: `edge run`, `edge analyze` and `models prepare`.

Heavy modules (OpenCV, onnxruntime) are imported inside the commands, so importing this
module to build the `shouwang` command stays fast.
"""

import json
import sys
import threading
from pathlib import Path
from typing import Annotated

import structlog
import typer

from shouwang.cli_helpers import console, fail
from shouwang.logs import configure_logging
from shouwang.service import run_until_signalled
from shouwang.settings import ConfigError

edge_app = typer.Typer(help="The edge agent: cameras → detection → behaviour events → MQTT.")
models_app = typer.Typer(help="Model files: ONNX export from the packages that ship weights.")
log = structlog.get_logger("edge.agent")


@models_app.callback()
def models() -> None:
    """Model files: ONNX export from the packages that ship weights."""


ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Edge YAML config (default: $SHOUWANG_CONFIG)."),
]


@edge_app.command("run")
def run(
    config: ConfigFile = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Analyse every configured camera until stopped (SIGINT/SIGTERM) and publish events."""
    from edge.agent import EdgeAgent
    from edge.config import load_settings

    configure_logging(log_level)
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if not settings.cameras:
        raise fail("no cameras configured: give --config FILE (see configs/edge.yaml)")
    agent = EdgeAgent(settings)
    stop = threading.Event()
    agent.start()
    try:
        run_until_signalled(stop.wait, stop.set, log, edge=settings.edge_id)
    finally:
        agent.stop()


@edge_app.command("analyze")
def analyze(
    video: Annotated[Path, typer.Argument(help="Video file to analyse.", exists=True)],
    config: ConfigFile = None,
    camera: Annotated[
        str | None, typer.Option(help="Camera of the config whose zones apply (default: first).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write events as JSON lines to this file.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write an annotated video (zones, people, grid).")
    ] = None,
) -> None:
    """Run the pipeline on a video file as fast as possible and print the events.

    Without --config: fall detection on, the whole frame as one zone, 10 s loitering.
    """
    import cv2
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from edge.analyze import VideoAnalysis, camera_for
    from edge.config import EdgeSettings, load_settings

    configure_logging("WARNING")
    try:
        settings = load_settings(config) if config else EdgeSettings.load(None)
        chosen = camera_for(video, settings, camera)
        analysis = VideoAnalysis(video, settings, chosen, out=out)
    except (ConfigError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    capture = cv2.VideoCapture(str(video))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    capture.release()
    sink = json_out.open("w", encoding="utf-8") if json_out else None
    count = 0
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(video.name, total=total)
            for item in analysis.events(lambda i: progress.update(task, completed=i + 1)):
                count += 1
                event = item.event
                seconds = (event.observed_at - analysis.start).total_seconds()
                details = " ".join(f"{k}={v}" for k, v in event.attributes.items())
                progress.console.print(
                    f"{seconds:7.1f}s frame {item.frame:6d} {event.type.value} "
                    f"{event.phase.value} track={event.track_id} zone={event.zone} "
                    f"conf={event.confidence:.2f} {details}",
                    highlight=False,
                    soft_wrap=True,
                )
                if sink:
                    line = {**event.model_dump(mode="json"), "frame": item.frame}
                    sink.write(json.dumps(line, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise fail(str(exc)) from None
    finally:
        if sink:
            sink.close()
    stats = analysis.stats
    per_call = 1000 * stats.inference_s / stats.detections if stats.detections else 0.0
    console.print(
        f"{count} events; {stats.frames} frames analysed, detector ran on {stats.detections} "
        f"({per_call:.1f} ms each)",
        highlight=False,
    )


@models_app.command("prepare")
def prepare(
    python: Annotated[
        str,
        typer.Option(
            help="Python of an environment with the weights packages and, to export, "
            "torch==2.13.0 ultralytics onnx onnxslim (kept out of the edge runtime)."
        ),
    ] = sys.executable,
    input_size: Annotated[
        int, typer.Option(help="Nominal export size (inputs are dynamic).")
    ] = 640,
    force: Annotated[bool, typer.Option(help="Re-export files that already exist.")] = False,
    models_dir: Annotated[
        Path | None, typer.Option(help="Where the ONNX files go (default: models/).")
    ] = None,
) -> None:
    """Write the ONNX models into models/ from the packages that ship their weights."""
    from edge.config.detector import MODELS_DIR
    from edge.models.prepare import PrepareError
    from edge.models.prepare import prepare as run_prepare

    try:
        done = run_prepare(python, models_dir or MODELS_DIR, input_size=input_size, force=force)
    except PrepareError as exc:
        raise fail(str(exc)) from None
    for item in done:
        console.print(f"{item.path}: {item.how}\n  sha256 {item.sha256}", highlight=False)


def main() -> None:
    """`python -m edge.cli edge …` and `python -m edge.cli models …`."""
    app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False)
    app.add_typer(edge_app, name="edge")
    app.add_typer(models_app, name="models")
    app()


if __name__ == "__main__":
    main()
