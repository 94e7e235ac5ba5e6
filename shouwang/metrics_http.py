"""The Prometheus endpoint every service serves from a background thread."""

from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, start_http_server

log = structlog.get_logger("shouwang")


class MetricsPortBusy(RuntimeError):
    """The metrics port is taken; the message says which setting to change."""


def serve_metrics(registry: CollectorRegistry, port: int, setting: str) -> WSGIServer | None:
    """Serve `registry` on `port` (0: not at all); returns the server (`shutdown()` stops it).
    `setting` is the config key of the port (`rules.metrics_port`), named in the error."""
    if not port:
        return None
    try:
        server, _ = start_http_server(port, addr="0.0.0.0", registry=registry)
    except OSError as exc:
        variable = "SHOUWANG_" + setting.upper().replace(".", "__")
        raise MetricsPortBusy(
            f"metrics port {port} is not available ({exc}); set {setting} ({variable}) to a "
            "free port or 0"
        ) from None
    log.info("metrics endpoint up", port=port, setting=setting)
    return server
