"""Password hashing: correct answers, off the event loop, bounded, re-hash on new settings."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from gateway.iam.passwords import SecretHasher


def hasher(concurrency: int = 2, memory_kib: int = 8_192) -> SecretHasher:
    return SecretHasher(memory_kib=memory_kib, time_cost=1, parallelism=1, concurrency=concurrency)


async def test_a_secret_verifies_only_against_its_own_hash() -> None:
    secrets = hasher()
    stored = await secrets.hash("盘锦-password-1")
    assert stored.startswith("$argon2id$")
    assert await secrets.verify(stored, "盘锦-password-1")
    assert not await secrets.verify(stored, "盘锦-password-2")
    assert not await secrets.verify(None, "盘锦-password-1")  # unknown name: refused, same work
    assert not await secrets.verify("not-a-hash", "盘锦-password-1")


async def test_hashing_does_not_hold_up_the_event_loop() -> None:
    secrets = hasher(memory_kib=19_456)
    turns = 0
    done = asyncio.Event()

    async def other_requests() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_requests())
    await secrets.hash("x" * 20)
    done.set()
    await ticker
    assert turns > 1


async def test_at_most_the_configured_number_of_hashes_run_at_once() -> None:
    secrets = hasher(concurrency=2)
    inner: Any = secrets._hasher
    running, most = 0, 0
    lock = threading.Lock()
    # each hash waits for a second to start beside it: on a busy machine a short hash could
    # otherwise end before the next thread starts, and two would never be seen at once
    pairs = threading.Barrier(2, timeout=10)
    original = inner.hash

    def counted(secret: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            pairs.wait()
            return str(original(secret))
        finally:
            with lock:
                running -= 1

    secrets._hasher = type("Counted", (), {"hash": staticmethod(counted)})()
    hashes = await asyncio.gather(*(secrets.hash(f"secret-{n}") for n in range(6)))
    assert len(set(hashes)) == 6
    assert most == 2


async def test_a_hash_made_with_other_settings_is_flagged_for_rehash() -> None:
    old = await hasher(memory_kib=8_192).hash("long enough password")
    current = hasher(memory_kib=19_456)
    assert current.needs_rehash(old)
    assert await current.verify(old, "long enough password")  # still valid meanwhile
    assert not current.needs_rehash(await current.hash("long enough password"))
