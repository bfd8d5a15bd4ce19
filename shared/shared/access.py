"""Loading and listing records within the caller's jurisdiction subtree.

A record outside the caller's area is "not found" (404), never "forbidden", so its
existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Query
from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from shared.auth import Principal, ensure_jurisdiction
from shared.errors import NotFound
from shared.jurisdictions import KnownJurisdictionCode, registry
from shared.pagination import PageParams

JurisdictionFilter = Annotated[
    KnownJurisdictionCode | None,
    Query(description="only records of this jurisdiction and of the jurisdictions below it"),
]
"""The ``jurisdiction`` query filter of every list: a subtree, inside the caller's own area."""


async def jurisdiction_filter(jurisdiction: JurisdictionFilter = None) -> str | None:
    """:data:`JurisdictionFilter` as a dependency (for a route declared in ``shared``)."""
    return jurisdiction


class HasJurisdiction(Protocol):
    jurisdiction: Any


RecordT = TypeVar("RecordT", bound=HasJurisdiction)
RowT = TypeVar("RowT")


async def load_in_scope(
    session: AsyncSession, model: type[RecordT], record_id: object, principal: Principal, what: str
) -> RecordT:
    record = await session.get(model, record_id)
    if record is None:
        raise NotFound(f"No {what} {record_id}.")
    ensure_jurisdiction(principal, str(record.jurisdiction), hide=True)
    return record


def in_scope(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], principal: Principal
) -> ColumnElement[bool]:
    """``column`` lies in the caller's subtree: no condition at all for a platform-wide
    caller (never an ``IN`` list of every code), else ``IN`` the caller's cached scope."""
    if principal.sees_everything:
        return true()
    return column.in_(principal.visible_jurisdictions())


def within_scope(
    query: Select[RowT], column: InstrumentedAttribute[Any], principal: Principal
) -> Select[RowT]:
    """Restrict ``query`` to rows whose ``column`` lies in the caller's subtree."""
    if principal.sees_everything:
        return query
    return query.where(in_scope(column, principal))


def filtered_to(
    query: Select[RowT],
    column: InstrumentedAttribute[Any],
    principal: Principal,
    jurisdiction: str | None,
) -> Select[RowT]:
    """``query`` within the caller's area and, when asked, within ``jurisdiction``'s subtree
    (403 when that jurisdiction lies outside the caller's area)."""
    query = within_scope(query, column, principal)
    if jurisdiction is None:
        return query
    ensure_jurisdiction(principal, jurisdiction)
    # retired codes below it too: records registered under them stay with their city
    return query.where(column.in_(registry().subtree(jurisdiction, retired=True)))


async def paginate(
    session: AsyncSession, query: Select[RowT], params: PageParams, *order: Any
) -> tuple[Sequence[RowT], int]:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = await session.scalars(query.order_by(*order).limit(params.limit).offset(params.offset))
    return list(rows), total
