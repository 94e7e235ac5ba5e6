"""Delivery throughput of one notifier: `python -m benchmarks.notify_throughput`.

Publishes `--jobs` notification jobs, each to one Web Push subscription (real keys, encrypted
and VAPID-signed) and one apprise `json://` webhook, both served by a local HTTP server that
accepts everything, and times one notifier from the first read to the last delivery recorded.
The database is a fresh SQLite file unless `--database` names another (PostgreSQL: give it an
empty schema, e.g. `?options=-csearch_path%3Dbench`).
"""

import argparse
import base64
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select

from notify.settings import NotifierSettings
from notify.worker import Notifier
from records.db import make_engine, make_sessionmaker
from records.feed import NotificationJob
from records.migrate import upgrade
from records.notifications import Delivery, DeliveryOutcome, save_push_subscription


class _Accept(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def push_subscription(endpoint: str) -> dict[str, Any]:
    """A browser's subscription JSON for `endpoint`, with fresh keys."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return {"endpoint": endpoint, "keys": {"p256dh": b64(point), "auth": b64(os.urandom(16))}}


def run(database: str, redis_url: str, jobs: int, concurrency: int, recipients: int) -> None:
    """Publish the jobs, run one notifier until every delivery is recorded, print the rates."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"127.0.0.1:{server.server_address[1]}"
    engine = make_engine(database)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    run_id = uuid.uuid4().hex[:8]
    with sessions.begin() as session:
        for n in range(recipients):
            endpoint = f"http://{base}/push/{run_id}/{n}"
            save_push_subscription(session, "guardian", n, push_subscription(endpoint))
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    stream = f"bench:{run_id}:notifications"
    pipe = client.pipeline(transaction=False)
    for n in range(jobs):
        job = NotificationJob(
            job_id=f"bench-{run_id}-{n}:0:guardian:{n % recipients}",
            alert_id=n,
            step=0,
            severity="critical",
            title="王奶奶家 跌倒",
            body="【紧急】王奶奶家 跌倒\n地点：碧江区 灯塔村 3组",
            recipient_type="guardian",
            recipient_id=n % recipients,
            recipient_name="王小红",
            role="guardian",
            phone="13800000001",
            channels=("webpush", f"json://{base}/hook"),
            created_at=datetime.now(UTC),
        )
        pipe.xadd(stream, job.to_fields())
    pipe.execute()
    settings = NotifierSettings(
        database={"url": database},
        redis={"url": redis_url},
        notify={"stream": stream, "group_start": "0", "concurrency": concurrency},
        notify_webpush={"endpoint_hosts": ["127.0.0.1"]},
    )
    notifier = Notifier(settings, sessions, client)
    notifier.consumer.ensure_group()
    expected = 2 * jobs
    started = time.perf_counter()
    sent = 0
    while sent < expected:
        notifier.poll(block_ms=10)
        with sessions() as session:
            sent = int(
                session.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(
                        Delivery.job_id.like(f"bench-{run_id}-%"),
                        Delivery.outcome == DeliveryOutcome.SENT,
                    )
                )
                or 0
            )
    elapsed = time.perf_counter() - started
    notifier.sender.drain()
    client.delete(stream)
    server.shutdown()
    print(
        f"{engine.dialect.name}: {jobs} jobs, {expected} deliveries (web push + webhook) in "
        f"{elapsed:.1f} s: {jobs / elapsed:.0f} jobs/s, {expected / elapsed:.0f} deliveries/s "
        f"(concurrency {concurrency})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file).")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL.")
    parser.add_argument("--jobs", type=int, default=2000, help="Jobs to publish.")
    parser.add_argument("--concurrency", type=int, default=16, help="Deliveries in flight.")
    parser.add_argument("--recipients", type=int, default=200, help="Distinct guardians.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = args.database or f"sqlite:///{folder}/bench.sqlite3"
        run(database, args.redis, args.jobs, args.concurrency, args.recipients)


if __name__ == "__main__":
    main()
