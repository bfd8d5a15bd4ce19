"""Password and client-secret hashing with argon2id, off the event loop and bounded.

Each argon2id hash holds ``memory_kib`` of memory for its duration and keeps a core busy,
so hashing runs in a worker thread (the gateway keeps forwarding meanwhile) and at most
``concurrency`` hashes run at once: a burst of logins waits its turn instead of growing
the gateway's memory by one hash's worth per login. The defaults are the OWASP Password
Storage Cheat Sheet's argon2id minimum (19 MiB, 2 iterations, 1 lane). Stored hashes carry
their own parameters, so changing the settings keeps old hashes valid; a password whose
hash used other parameters is re-hashed at its next successful sign-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.config import GatewaySettings
from shared.errors import ProblemError


class HashingBusy(ProblemError):
    status = 503
    title = "Service unavailable"
    type_suffix = "signin-busy"


class SecretHasher:
    def __init__(
        self,
        *,
        memory_kib: int,
        time_cost: int,
        parallelism: int,
        concurrency: int,
        queue_limit: int = 10_000,
    ) -> None:
        self._hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism)
        self._slots = asyncio.Semaphore(concurrency)
        self._queue_limit = queue_limit
        self._waiting = 0
        self._dummy_hash: str | None = None

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """A hashing slot; refused at once (503, Retry-After) when ``queue_limit`` wait already."""
        if self._slots.locked() and self._waiting >= self._queue_limit:
            raise HashingBusy("Too many sign-ins at once; retry in a moment.", headers={"Retry-After": "1"})
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> SecretHasher:
        return cls(
            memory_kib=settings.password_hash_memory_kib,
            time_cost=settings.password_hash_time_cost,
            parallelism=settings.password_hash_parallelism,
            concurrency=settings.password_hash_concurrency,
            queue_limit=settings.password_hash_queue_limit,
        )

    async def hash(self, secret: str) -> str:
        async with self._slot():
            return await asyncio.to_thread(self._hasher.hash, secret)

    async def verify(self, stored_hash: str | None, secret: str) -> bool:
        """Whether ``secret`` matches; with no stored hash it still spends the same time
        (against a dummy hash), so the answer's timing does not reveal unknown names."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        async with self._slot():
            try:
                matched = await asyncio.to_thread(
                    self._hasher.verify, stored_hash or self._dummy_hash, secret
                )
            except (VerificationError, InvalidHashError):
                return False
        return matched and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def generate_secret() -> str:
    return secrets.token_urlsafe(32)
