"""The ledger's booking locks: who may compute "due − already booked" for which entries.

The ledger is split by (jurisdiction of the entry, hash bucket of the enrolment). A run
locks the pairs it books, in sorted order, for the length of its transaction
(``shared.jobs.lock_for_booking``): a payroll locks every bucket of its area, a
recalculation batch one bucket of its area. A city-wide run and a county run thus take
the same locks for the county's enrolments and book one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.jobs import booking_keys

NAMESPACE = "welfare.ledger"
BUCKETS = 4
"""Hash buckets of the enrolments: the recalculation's batches, and the ledger's lock grain."""

BUCKET_SQL = "abs(hashtext({column}::text)::bigint) % " + str(BUCKETS)
"""The bucket of an enrolment id in SQL (bigint: ``abs`` of the smallest int4 overflows)."""


def ledger_locks(scope: Iterable[str], buckets: Iterable[int] = range(BUCKETS)) -> list[int]:
    """The lock keys of the ledger entries of ``scope`` (jurisdiction codes) in ``buckets``."""
    return booking_keys(NAMESPACE, scope, buckets)
