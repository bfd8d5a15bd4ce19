"""The standards lock of an area: a new standard version and a payroll of an overlapping area
happen one after the other.

A version of jurisdiction J prices every month of J's subtree; a payroll of P reads the
standards of P's subtree and of P's ancestors. Both take the same hierarchical set of
transaction-level advisory locks: exclusive on their own jurisdiction, shared on each of its
ancestors. A version of the city (exclusive on the city) thus waits for every county payroll
(shared on the city) and the other way round, while two counties never block each other:

- J an ancestor of P: J's exclusive lock meets P's shared lock on J.
- J inside P's subtree: J's shared lock on P meets P's exclusive lock on P.
- J = P: two exclusive locks.

So a payroll either commits before the version's writer looks for months already paid (and
the version starts the recalculation that corrects them), or reads the standards after the
version committed (and pays at the new standard). Transaction-level locks need no session
state: they work behind a transaction pooler (PgBouncer) and across replicas. Keys are taken
in one global order (sorted), so two transactions never wait for each other in a cycle.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import lock_key
from shared.jobs import LOCK_NOT_AVAILABLE, Busy
from shared.jurisdictions import registry

NAMESPACE = "welfare.standards.area"


def standards_locks(jurisdiction: str) -> list[tuple[int, bool]]:
    """``(key, exclusive)`` in the order to take them: exclusive on ``jurisdiction``, shared on
    each of its ancestors."""
    chain = registry().ancestors_and_self(jurisdiction)
    locks = {lock_key(f"{NAMESPACE}:{code}"): code == jurisdiction for code in chain}
    return sorted(locks.items())


async def lock_standards(
    session: AsyncSession,
    jurisdiction: str,
    *,
    timeout_ms: int | None = None,
    busy_detail: str = "The standards of this area are being changed; retry shortly.",
) -> None:
    """Hold the standards lock of ``jurisdiction`` until the transaction ends (with
    ``timeout_ms``: 409 Busy instead of a longer wait)."""
    if timeout_ms is not None:
        await session.execute(text(f"SET LOCAL lock_timeout = {int(timeout_ms)}"))
    try:
        for key, exclusive in standards_locks(jurisdiction):
            function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            await session.execute(text(f"SELECT {function}(:key)"), {"key": key})
    except DBAPIError as exc:
        if (
            getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE
            or getattr(exc.orig, "pgcode", None) == LOCK_NOT_AVAILABLE
        ):
            raise Busy(busy_detail) from exc
        raise
    if timeout_ms is not None:
        await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
