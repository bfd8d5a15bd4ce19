"""What every router under ``/years/{year}`` needs, as FastAPI dependencies: the year a
request names (:data:`YearDep`) and the subject it names (:data:`SubjectDep`), loaded and
checked against the caller once, before the handler runs.

Declare the scope alias (``Reader``/``Writer``) before these in a handler's signature, so a
caller without the scope gets 403 before the year is looked up. A request's body is checked
before the year is looked up (:func:`body_first`), so a malformed body answers 422 whether
or not the year exists, as it does everywhere on the platform.
"""

from __future__ import annotations

import email.message
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.params import Form
from fastapi.routing import APIRoute
from pydantic_core import PydanticUndefined

from appraisal.schemes.enums import scheme_enum
from appraisal.schemes.state import schemes_of
from appraisal.years import service
from appraisal.years.models import Subject
from appraisal.years.schemas import FIRST_YEAR, LAST_YEAR
from appraisal.years.service import YearContext
from shared.auth import CurrentPrincipal
from shared.db import SessionDep

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


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def body_first(request: Request) -> None:
    """Check the route's request body the way FastAPI does, before any record is looked up.

    FastAPI resolves dependencies before it validates the body, so without this a malformed
    body sent to a year that does not exist would answer 404 rather than 422. The body was
    read and parsed already (Starlette keeps it on the request); a body FastAPI would not
    parse as JSON or a form is left to FastAPI's own check.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None or not route.dependant.body_params:
        return
    body: Any = PydanticUndefined
    if isinstance(route.body_field.field_info, Form):
        body = await request.form()
    elif await request.body():
        if not _is_json(request.headers.get("content-type")):
            return
        body = await request.json()
    _, errors = await request_body_to_args(
        body_fields=route.dependant.body_params,
        received_body=body,
        embed_body_fields=len(route.dependant.body_params) > 1,
    )
    if errors:
        raise RequestValidationError(errors, body=body)


BodyFirst = Annotated[None, Depends(body_first)]


async def year_named(
    _: BodyFirst,
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    scheme: SchemeQuery = None,
) -> YearContext:
    """The year of the path (and ``?scheme=``) that the caller can see, else 404."""
    return await service.find_year(
        session=session, principal=principal, schemes=schemes_of(request), year=year, scheme=scheme
    )


YearDep = Annotated[YearContext, Depends(year_named)]


async def subject_named(
    subject: SubjectPath, context: YearDep, session: SessionDep, principal: CurrentPrincipal
) -> Subject:
    """The subject of the path, in the year of the path, that the caller can see, else 404."""
    return await service.find_subject(session=session, context=context, principal=principal, code=subject)


SubjectDep = Annotated[Subject, Depends(subject_named)]
