"""Path and query parameters shared by every router under ``/years/{year}``, and the
dependency-free loader of the year a request names."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.schemes.enums import scheme_enum
from appraisal.schemes.state import schemes_of
from appraisal.years.schemas import FIRST_YEAR, LAST_YEAR
from appraisal.years.service import YearContext, find_year
from shared.auth import Principal

CODE_PATTERN = r"^[A-Za-z0-9_.:-]+$"

YearPath = Annotated[int, Path(ge=FIRST_YEAR, le=LAST_YEAR, description="The appraisal year (考核年度).")]
SchemeQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="The scheme, needed only when the year is open for several schemes you can see.",
        json_schema_extra=scheme_enum(),
    ),
]
SubjectPath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=CODE_PATTERN, description="The subject's code (e.g. 411721)."),
]


async def year_context(
    request: Request, session: AsyncSession, principal: Principal, year: int, scheme: str | None
) -> YearContext:
    return await find_year(session, principal, schemes_of(request), year, scheme)
