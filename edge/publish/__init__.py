"""Edge publisher: MQTT delivery of behaviour events with a durable store-and-forward queue."""

from edge.publish.client import EdgePublisher, PublisherStats
from edge.publish.config import PublisherSettings
from edge.publish.pacing import TokenBucket
from edge.publish.queue import EvictionClass, OutboxQueue, QueueError, QueueStats

__all__ = [
    "EdgePublisher",
    "EvictionClass",
    "OutboxQueue",
    "PublisherSettings",
    "PublisherStats",
    "QueueError",
    "QueueStats",
    "TokenBucket",
]
