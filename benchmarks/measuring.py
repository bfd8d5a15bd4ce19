"""What the job benchmarks measure alike: seeding a database with SQL, the floor (a job's rows
written by bare SQL, rolled back afterwards) and a service process's peak memory.

A benchmark run as a file imports it as ``benchmarks.measuring``, with the repository's root
last on ``sys.path``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import asyncpg
import psutil


def dsn(url: str) -> str:
    """The database URL as asyncpg takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def seed(url: str, sql: str) -> float:
    """Run the seeding ``sql`` (committed); the seconds it took."""
    connection = await asyncpg.connect(dsn(url))
    started = time.perf_counter()
    await connection.execute(sql)
    await connection.close()
    return time.perf_counter() - started


async def checkpoint(url: str) -> None:
    """A checkpoint now: what is measured next starts with no dirty pages left by what came
    before, and writes whole pages first as the floor did (a checkpoint falling inside one
    measurement and not the other had moved the eldercare floor between 26 and 34 s)."""
    connection = await asyncpg.connect(dsn(url))
    await connection.execute("CHECKPOINT")
    await connection.close()


async def floor(url: str, sql: str, *, vacuum: Sequence[str] = ()) -> tuple[float, int]:
    """The bare SQL writing a job's rows, timed in a transaction that is rolled back, after a
    checkpoint: the seconds and the rows it wrote. ``vacuum``: tables to vacuum after the
    rollback, so that the job measured next finds them as the floor did, not holding the
    floor's dead rows and index entries (1.5 million of each in the eldercare month)."""
    await checkpoint(url)
    connection = await asyncpg.connect(dsn(url))
    transaction = connection.transaction()
    await transaction.start()
    started = time.perf_counter()
    status = await connection.execute(sql)
    elapsed = time.perf_counter() - started
    await transaction.rollback()
    for table in vacuum:
        await connection.execute(f"VACUUM {table}")
    await connection.close()
    return elapsed, int(status.split()[-1])


class MemorySampler(threading.Thread):
    """The peak resident memory of process ``pid``, sampled every 50 ms until ``stop`` is set."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)
