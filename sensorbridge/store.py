"""What the bridge keeps in Redis: dead letters (beside ingest's, same fields) and the last value
published per device and kind."""

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis

DEADLETTER_MAXLEN = 100_000


@dataclass(frozen=True, slots=True)
class Letter:
    """A message that became no reading, with why."""

    topic: str
    reason: str
    detail: str
    payload: bytes
    received_ms: int
    qos: int
    retain: bool


class BridgeStore:
    """Dead letters and last values, written together in one round trip."""

    def __init__(
        self, client: redis.Redis, *, deadletter_stream: str, state_key: str, worker: str
    ) -> None:
        self.client = client
        self.deadletter_stream = deadletter_stream
        self.state_key = state_key
        self.worker = worker

    def last_values(self) -> dict[str, str]:
        """The last value published per `site/device/kind` (JSON)."""
        raw = self.client.hgetall(self.state_key)
        return {_text(key): _text(value) for key, value in raw.items()}

    def commit(self, last_values: Mapping[str, str], letters: Sequence[Letter]) -> None:
        """Keep new last values and append dead letters (one pipeline; raises on Redis errors)."""
        if not last_values and not letters:
            return
        pipe = self.client.pipeline(transaction=False)
        if last_values:
            pipe.hset(self.state_key, mapping=dict(last_values))
        for letter in letters:
            pipe.xadd(
                self.deadletter_stream,
                {
                    "topic": letter.topic,
                    "reason": letter.reason,
                    "detail": letter.detail[:2000],
                    "payload_b64": base64.b64encode(letter.payload).decode("ascii"),
                    "received_ms": str(letter.received_ms),
                    "worker": self.worker,
                    "qos": str(letter.qos),
                    "retain": "1" if letter.retain else "0",
                },
                maxlen=DEADLETTER_MAXLEN,
                approximate=True,
            )
        pipe.execute()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
