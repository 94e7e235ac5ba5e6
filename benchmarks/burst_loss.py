"""How many events of a burst survive: stock Mosquitto settings vs the project's tuning.

    python -m benchmarks.burst_loss [--events 20000] [--runs 1]

For each configuration: a private Mosquitto on a free port, one ingest worker (real Redis on
127.0.0.1:6379), a burst of QoS 1 events from `mosquitto_pub -l`, then the count stored in
the stream once nothing more arrives, and the broker's own dropped-message counter.
"""

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

import redis
from rich.console import Console
from rich.table import Table

from benchmarks.ingest_throughput import REDIS_URL, ingest_settings
from ingest.worker import IngestWorker
from shouwang.contracts import MessageKind, build_topic
from shouwang.contracts.examples import example
from shouwang.logs import configure_logging
from tests.helpers.mosquitto import PROJECT_TUNING, Mosquitto
from tests.ingest.conftest import mosquitto_pub_lines

console = Console()


def one_burst(tuned: bool, events: int, tmp: Path) -> tuple[int, float]:
    """Stored count and the broker's dropped counter after one burst."""
    uid = uuid.uuid4().hex[:8]
    broker = Mosquitto(
        tmp / f"broker-{uid}", tuning=PROJECT_TUNING if tuned else None, queue_limit=None
    )
    broker.start()
    try:
        settings = ingest_settings(broker.port, uid, 0, tmp, broker_stats=True)
        worker = IngestWorker(settings)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        worker.wait_subscribed(15)
        site = f"burst{uid}"
        lines = [
            example(MessageKind.EVENT, site=site, source="cam-01").model_dump_json()
            for _ in range(events)
        ]
        mosquitto_pub_lines(broker.port, build_topic(site, "cam-01", "event"), lines)
        client = redis.Redis.from_url(REDIS_URL)
        stream = settings.ingest.stream
        last, stable_since = -1, time.monotonic()
        while time.monotonic() - stable_since < 3.0:
            count = client.xlen(stream)
            if count != last:
                last, stable_since = count, time.monotonic()
            time.sleep(0.1)
        time.sleep(11)  # one more $SYS interval for the dropped counter (stock: 10 s)
        dropped = worker.broker_stats.get("messages_dropped", float("nan"))
        worker.stop()
        thread.join(15)
        client.delete(stream, settings.ingest.deadletter_stream)
        return last, dropped
    finally:
        broker.stop()


def main() -> None:
    configure_logging("WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    table = Table(title=f"Burst of {args.events:,} QoS 1 events from mosquitto_pub -l")
    for column in ("broker settings", "run", "stored", "lost", "broker dropped counter"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for tuned in (False, True):
            for run in range(1, args.runs + 1):
                label = "project tuning" if tuned else "stock"
                console.print(f"{label}, run {run} …")
                stored, dropped = one_burst(tuned, args.events, Path(tmp))
                table.add_row(
                    label, str(run), f"{stored:,}", f"{args.events - stored:,}", f"{dropped:,.0f}"
                )
    console.print(table)


if __name__ == "__main__":
    main()
