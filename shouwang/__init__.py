"""Shouwang (守望): the kernel every stage shares — wire contracts, settings, Redis key names,
logs, the consumer-group worker, the service run loop, the MQTT client and the metrics
endpoint. It imports no other package of the project (docs/architecture.md)."""

__version__ = "0.1.0"
