"""The broker's own counters, read from its `$SYS` topics (Mosquitto; EMQX publishes similar)."""

SYS_FILTER = "$SYS/broker/#"

# $SYS topic → our stat name. Only counters an operator acts on.
SYS_TOPICS = {
    "$SYS/broker/publish/messages/dropped": "messages_dropped",
    # Mosquitto publishes a $SYS value only when it changes, so the total above is unknown
    # until the first drop after ingest subscribed; these moving averages are always sent.
    "$SYS/broker/load/publish/dropped/1min": "messages_dropped_per_min_1min",
    "$SYS/broker/load/publish/dropped/15min": "messages_dropped_per_min_15min",
    "$SYS/broker/store/messages/count": "messages_stored",
    "$SYS/broker/store/messages/bytes": "messages_stored_bytes",
    "$SYS/broker/clients/connected": "clients_connected",
    "$SYS/broker/messages/received": "messages_received",
    "$SYS/broker/messages/sent": "messages_sent",
    "$SYS/broker/load/messages/received/1min": "messages_received_per_min",
}


def parse_sys_message(topic: str, payload: bytes) -> tuple[str, float] | None:
    """(stat name, value) for a $SYS message we track, else None."""
    name = SYS_TOPICS.get(topic)
    if name is None:
        return None
    try:
        return name, float(payload.decode("ascii").split()[0])
    except (UnicodeDecodeError, ValueError, IndexError):
        return None
