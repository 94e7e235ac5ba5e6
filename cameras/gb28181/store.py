"""Registrations in Redis, shared by every gateway process: one key per device and a sorted
set of deadlines that the processes claim from atomically (each overdue device once)."""

import secrets

import redis.asyncio as aioredis

from cameras.gb28181.registration import Registration

PREFIX = "shouwang:gb28181"

CLAIM_OVERDUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do redis.call('ZREM', KEYS[1], member) end
return due
"""


class RegistrationStore:
    """Load, save and forget registrations; find the devices past their deadline."""

    def __init__(self, client: aioredis.Redis, prefix: str = PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self.deadlines = f"{prefix}:deadlines"
        self._claim = client.register_script(CLAIM_OVERDUE)

    def key(self, device_id: str) -> str:
        return f"{self.prefix}:device:{device_id}"

    async def load(self, device_id: str) -> Registration | None:
        """The device's registration, if it has one."""
        text = await self.client.get(self.key(device_id))
        return Registration.from_json(text) if text else None

    async def save(self, registration: Registration, deadline: float, now: float) -> None:
        """Store it until it expires; while online, watch its deadline."""
        ttl = max(1, int(registration.expires_at - now) + 60)
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.key(registration.device_id), registration.to_json(), ex=ttl)
        if registration.online:
            pipe.zadd(self.deadlines, {registration.device_id: deadline})
        else:
            pipe.zadd(self.deadlines, {registration.device_id: registration.expires_at})
        await pipe.execute()

    async def forget(self, device_id: str) -> None:
        """Drop the registration (unregistered or expired)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(self.key(device_id))
        pipe.zrem(self.deadlines, device_id)
        await pipe.execute()

    async def claim_overdue(self, now: float, limit: int = 500) -> list[str]:
        """Devices whose deadline has passed, each given to one caller only."""
        due = await self._claim(keys=[self.deadlines], args=[now, limit])
        return [d.decode() if isinstance(d, bytes) else d for d in due]

    async def nonce_secret(self) -> bytes:
        """The deployment's nonce-signing secret (made once, shared by every process)."""
        key = f"{self.prefix}:nonce_secret"
        await self.client.set(key, secrets.token_hex(32), nx=True)
        value = await self.client.get(key)
        return value.encode() if isinstance(value, str) else value
