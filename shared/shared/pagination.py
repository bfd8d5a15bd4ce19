"""limit/offset pagination with a hard maximum page size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from shared.errors import InvalidInput

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    request: Request,
    limit: Annotated[int | None, Query(ge=1, description="Page size (capped by the service).")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PageParams:
    settings = request.app.state.settings
    if limit is None:
        limit = settings.default_page_size
    if limit > settings.max_page_size:
        raise InvalidInput.field(
            "query.limit", f"must be at most {settings.max_page_size} (the maximum page size)"
        )
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Sequence[ItemT], total: int, params: PageParams) -> Page[ItemT]:
        return cls(items=list(items), total=total, limit=params.limit, offset=params.offset)
