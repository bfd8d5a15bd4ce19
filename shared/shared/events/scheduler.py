"""The scheduler: events no write causes (a deadline passed, a month ended), each written once.

A service registers *checks*: async functions of a session and today's date (Asia/Shanghai,
or the ``scheduler_today`` setting) that answer the events due on that day, each with a
stable key (``renewal:task.overdue:{plan}:{task}:{deadline}``). Every replica runs the loop
(every ``scheduler_interval_seconds``; off with ``scheduler`` false); a round runs in one
transaction that first takes a transaction-scoped advisory lock on the service's scheduler
(``pg_try_advisory_xact_lock``, released at commit or rollback, so it works behind PgBouncer
in transaction mode): the replica holding it runs the round, the others skip it.

Exactly once per key, even when two rounds ran at once or a round is repeated: each event's
key goes into ``scheduled_events`` (unique) in the transaction that writes the event to the
outbox, through the one write path (audit row and outbox row with the system principal). A key
already there is skipped; a round that fails rolls back both.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import lock_key
from shared.months import policy_today
from shared.records import PlatformTables
from shared.writes import Event, WriteContext, system_principal

logger = logging.getLogger("shared.events")


@dataclass(frozen=True)
class Due:
    """An event a check found due, with the key that makes it once."""

    key: str
    event: Event


Check = Callable[[AsyncSession, dt.date], Awaitable[Sequence[Due]]]


@dataclass
class Scheduler:
    service: str
    sessions: async_sessionmaker[AsyncSession]
    tables: PlatformTables
    checks: Sequence[Check]
    interval_seconds: float = 300.0
    today: Callable[[], dt.date] = policy_today
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    @property
    def lock(self) -> int:
        return lock_key(f"{self.service}:scheduler")

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self.service}-event-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        quiet = False
        while True:
            try:
                await self.run_once()
                quiet = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away: try again next round
                if not quiet:
                    logger.warning("event scheduler round failed: %s: %s", type(exc).__name__, exc)
                quiet = True
            await asyncio.sleep(self.interval_seconds)

    async def run_once(self) -> int | None:
        """One round: the events written (0 when none was due), or None when another replica
        holds the round."""
        table = self.tables.scheduled_events
        if table is None or self.tables.outbox is None:
            return 0
        today = self.today()
        async with self.sessions() as session, session.begin():
            if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": self.lock}):
                return None
            write = WriteContext.for_job(
                session=session,
                principal=system_principal(f"{self.service}-scheduler"),
                tables=self.tables,
                service=self.service,
            )
            written = 0
            for check in self.checks:
                for due in await check(session, today):
                    claimed = await session.scalar(
                        insert(table)
                        .values(key=due.key, event_id=due.event.id)
                        .on_conflict_do_nothing()
                        .returning(table.c.key)
                    )
                    if claimed is None:
                        continue  # emitted before
                    await write.record(
                        action="emit",
                        entity="scheduled_event",
                        entity_id=due.key,
                        jurisdiction=due.event.jurisdiction,
                        after=due.event.data,
                        event=due.event,
                    )
                    written += 1
        return written
