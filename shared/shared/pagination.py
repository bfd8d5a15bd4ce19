"""Lists: the ``{items, total}`` envelope, limit/offset pages, keyset (cursor) pages, ``sort``
with declared values, and unknown query parameters refused (422 naming the parameter).

Every list answer is an object: :class:`Items` (a whole, bounded list), :class:`Page`
(limit/offset with the total) or :class:`CursorPage` (keyset pages for tables that grow
without bound: ``{items, next_cursor}``, no total, no deep OFFSET scans).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import InvalidInput

ItemT = TypeVar("ItemT")
MAX_PAGE_SIZE = 200
"""The hard maximum page size of every list in the platform."""
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")
    ] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Items(BaseModel, Generic[ItemT]):
    """A whole list (bounded by nature: a plan's duties, a year's transitions) in the envelope."""

    items: list[ItemT]
    total: int = Field(description="The number of items.")

    @classmethod
    def of(cls, items: Sequence[ItemT]) -> Items[ItemT]:
        return cls(items=list(items), total=len(items))


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[ItemT], total: int, params: PageParams) -> Page[ItemT]:
        return cls(items=list(items), total=total, limit=params.limit, offset=params.offset)


# keyset pages ------------------------------------------------------------------------------

_CURSOR_PREFIX = "k1:"


def encode_cursor(position: int) -> str:
    """An opaque cursor for the position of the last item of a page."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        text = ""
    position = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not position.isdigit() or not position.isascii():
        raise InvalidInput.field(
            "query.cursor", "not a cursor of this list; use next_cursor of the previous page"
        )
    return int(position)


@dataclass(frozen=True)
class CursorParams:
    limit: int
    after: int | None


async def cursor_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="`next_cursor` of the previous page; absent for the first page.",
        ),
    ] = None,
) -> CursorParams:
    return CursorParams(limit=limit, after=decode_cursor(cursor) if cursor is not None else None)


CursorDep = Annotated[CursorParams, Depends(cursor_params)]


class CursorPage(BaseModel, Generic[ItemT]):
    """A keyset page: no total (counting a table that grows without bound is the slow part)."""

    items: list[ItemT]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


async def keyset(
    session: AsyncSession,
    query: Select[Any],
    params: CursorParams,
    key: Any,
    *,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of ``query`` ordered by the unique integer column ``key``, and the next cursor."""
    if params.after is not None:
        query = query.where(key < params.after if descending else key > params.after)
    ordered = query.order_by(key.desc() if descending else key.asc()).limit(params.limit + 1)
    rows = list((await session.execute(ordered)).all())
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return rows, encode_cursor(_position(rows[-1], key)) if more and rows else None


def _position(row: Any, key: Any) -> int:
    """The key of a row: a column of a Core select, or an attribute of the ORM entity selected."""
    mapping = row._mapping
    if key.key in mapping:
        return int(mapping[key.key])
    return int(getattr(row[0], key.key))


def order_by(sort: str, columns: dict[str, Any]) -> Any:
    """The ORDER BY expression of a ``sort`` value.

    Declare ``sort`` as a ``Literal`` of field names, each also with ``-`` before it for
    descending (``Literal["name", "-name"]``): OpenAPI shows the values as an enum and any
    other value is a 422 listing them.
    """
    column = columns[sort.removeprefix("-")]
    return column.desc() if sort.startswith("-") else column.asc()


# unknown query parameters -------------------------------------------------------------------

_declared: dict[int, frozenset[str]] = {}


def _declared_query_names(route: Any) -> frozenset[str] | None:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    key = id(route)
    if key not in _declared:
        names: set[str] = set()
        pending = [dependant]
        while pending:  # the operation's own parameters and those of its dependencies
            current = pending.pop()
            names.update(field.alias for field in current.query_params)
            pending.extend(current.dependencies)
        _declared[key] = frozenset(names)
    return _declared[key]


async def reject_unknown_query_parameters(request: Request) -> None:
    """422 naming each query parameter the operation does not declare (never silently ignored)."""
    if not request.query_params:
        return
    declared = _declared_query_names(request.scope.get("route"))
    if declared is None:
        return
    unknown = sorted({name for name in request.query_params if name not in declared})
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise InvalidInput(
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
            errors=[
                {
                    "field": f"query.{name}",
                    "message": f"not a parameter of this operation; it takes: {known}",
                    "type": "unknown_query_parameter",  # for the Chinese message (shared.problems)
                }
                for name in unknown
            ],
        )
