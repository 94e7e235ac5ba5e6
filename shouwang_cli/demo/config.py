"""The demo's config files: one for the back-office services, one for the edge agent.

Written into the demo folder on every run, so a user can read them, and start any service by
hand with `shouwang <service> -c demo-data/shouwang.yaml`.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shouwang_cli.demo.services import Service

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
DEMO_RULES = REPO / "configs" / "demo" / "rules.yaml"
DEMO_SITE = "demo-village"


@dataclass(frozen=True)
class DemoStreams:
    """The demo's own Redis names, so it never mixes with real data on a shared Redis."""

    events: str = "demo:events"
    deadletter: str = "demo:deadletter"
    alerts: str = "demo:alerts"
    notifications: str = "demo:notifications"
    rules_prefix: str = "demo:rules"
    bridge_state: str = "demo:bridge:last"
    zigbee2mqtt: str = "demo-zigbee2mqtt"
    """The base topic the demo's simulated Zigbee2MQTT publishes under."""
    notify_prefix: str = "demo:notify"
    api_prefix: str = "demo:api"


STREAMS = DemoStreams()


def database_url(workdir: Path) -> str:
    """The demo's SQLite file."""
    return f"sqlite:///{(workdir / 'demo.sqlite3').resolve()}"


def server_config(broker: Service, redis: Service, workdir: Path, api_port: int) -> dict[str, Any]:
    """Sections for ingest, rules, the notifier and the API (each reads its own)."""
    embedded_broker = broker.embedded
    snapshots = str((workdir / "snapshots").resolve())
    return {
        "mqtt": {"host": broker.host, "port": broker.port},
        "redis": {"url": f"redis://{redis.host}:{redis.port}/0"},
        "database": {"url": database_url(workdir)},
        "log_level": "INFO",
        "ingest": {
            "worker_id": "demo-ingest",
            "topic_filter": f"shouwang/v1/{DEMO_SITE}/#",
            "share_group": None if embedded_broker else "demo",
            "protocol": "3.1.1" if embedded_broker else "5",
            "stream": STREAMS.events,
            "deadletter_stream": STREAMS.deadletter,
            "snapshot_dir": snapshots,
            "metrics_port": 0,
            "broker_stats": not embedded_broker,
            "session_expiry_s": 3600,
        },
        "rules": {
            "file": str(DEMO_RULES),
            "stream": STREAMS.events,
            "group": "demo-rules",
            "group_start": "0",
            "consumer": "demo-rules-1",
            "deadletter_stream": STREAMS.deadletter,
            "alerts_stream": STREAMS.alerts,
            "notifications_stream": STREAMS.notifications,
            "key_prefix": STREAMS.rules_prefix,
            "metrics_port": 0,
        },
        "bridge": {
            "client_id": "demo-bridge",
            "zigbee2mqtt_topics": [STREAMS.zigbee2mqtt],
            "protocol": "3.1.1" if embedded_broker else "5",
            "session_expiry_s": 3600,
            "deadletter_stream": STREAMS.deadletter,
            "state_key": STREAMS.bridge_state,
            "metrics_port": 0,
        },
        "notify": {
            "stream": STREAMS.notifications,
            "group": "demo-notifier",
            "group_start": "0",
            "consumer": "demo-notifier-1",
            "deadletter_stream": STREAMS.deadletter,
            "key_prefix": STREAMS.notify_prefix,
            "metrics_port": 0,
        },
        "api": {
            "host": "127.0.0.1",
            "port": api_port,
            "snapshot_dir": snapshots,
            "key_prefix": STREAMS.api_prefix,
            "alerts_stream": STREAMS.alerts,
            "notifications_stream": STREAMS.notifications,
            "rules_key_prefix": STREAMS.rules_prefix,
        },
    }


def edge_config(broker: Service, workdir: Path) -> dict[str, Any]:
    """Two cameras playing sample video in real time: the yard and the elder's room."""
    return {
        "edge_id": "demo-edge",
        "site": DEMO_SITE,
        "mqtt": {"host": broker.host, "port": broker.port},
        "publish": {
            "queue_path": str((workdir / "edge" / "outbox.sqlite3").resolve()),
            "replay_jitter_s": 0,
            "heartbeat_interval_s": 5,
            "mqtt_version": "3.1.1" if broker.embedded else "5",
        },
        "cameras": [
            {
                "id": "cam-yard",
                "name": "王秀英家院子",
                "source": str(SAMPLES / "intel-one-by-one.mp4"),
                "detect_fps": 5,
                "zones": {
                    "yard": {
                        "name": "院门口",
                        "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                        "tags": ["home"],
                    }
                },
                "loitering": {"loitering_s": 8},
            },
            {
                "id": "cam-room",
                "name": "王秀英家堂屋",
                "source": str(SAMPLES / "urfd-fall-01.mp4"),
                "detect_fps": 5,
                "loitering": {"enabled": False},
            },
        ],
    }


def write_yaml(path: Path, values: dict[str, Any]) -> Path:
    """Write `values` as YAML (UTF-8) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(values, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
