"""Run an EdgePublisher in a child process, so a test can SIGKILL it.

    python -m tests.helpers.publisher_process --queue Q --port P --site S --edge E \
        [--count N --prefix ID] [--wait-connected]

Prints `queued <n>` once the events are stored, `connected <session_id>` if asked to wait for a
connection, then sleeps until killed.
"""

import argparse
import sys
import time
from pathlib import Path

from edge.publish import EdgePublisher, PublisherSettings
from shouwang.logs import configure_logging
from shouwang.settings import MqttSettings
from tests.helpers.edge_events import make_event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queue", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--edge", required=True)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--prefix", default="evt")
    parser.add_argument("--wait-connected", action="store_true")
    args = parser.parse_args()
    configure_logging("INFO", json=True)  # stderr: stdout is for the parent
    publisher = EdgePublisher(
        site=args.site,
        edge=args.edge,
        mqtt_settings=MqttSettings(port=args.port, keepalive_s=5),
        settings=PublisherSettings(
            queue_path=args.queue, replay_jitter_s=0, reconnect_min_s=1, reconnect_max_s=1
        ),
    )
    publisher.start()
    for i in range(args.count):
        publisher.publish_event(make_event(args.site, args.edge, f"{args.prefix}-{i:06d}"))
    print(f"queued {args.count}", flush=True)
    if args.wait_connected:
        while not publisher.connected:
            time.sleep(0.02)
        print(f"connected {publisher.session_id}", flush=True)
    sys.stdout.flush()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
