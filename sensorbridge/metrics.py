"""Prometheus metrics of the sensor bridge (its own registry)."""

from prometheus_client import CollectorRegistry, Counter, Gauge


class BridgeMetrics:
    """Counters exported on the bridge's /metrics endpoint."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "shouwang_bridge_messages",
            "Messages received, by what they became (published, unknown_device, unreadable, "
            "retained, command, …).",
            ["outcome"],
            registry=r,
        )
        self.readings = Counter(
            "shouwang_bridge_readings",
            "Readings published, by sensor kind and whether they repeat the last value.",
            ["kind", "repeated"],
            registry=r,
        )
        self.deadlettered = Counter(
            "shouwang_bridge_deadlettered", "Messages dead-lettered.", ["reason"], registry=r
        )
        self.retries = Counter(
            "shouwang_bridge_retries",
            "Rounds retried because the broker did not acknowledge readings or Redis failed.",
            ["cause"],
            registry=r,
        )
        self.devices = Gauge(
            "shouwang_bridge_devices", "Rows of the device table in use.", registry=r
        )
        self.connected = Gauge(
            "shouwang_bridge_connected", "1 while connected to the broker.", registry=r
        )
