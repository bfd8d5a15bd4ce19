"""HTTP for appraisal years, their subjects, indicators and the publication of their rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from appraisal.access import Reader, Writer
from appraisal.schemes.enums import scheme_enum
from appraisal.schemes.state import schemes_of
from appraisal.years import service
from appraisal.years.dependencies import SubjectDep, YearDep
from appraisal.years.schemas import (
    IndicatorCreate,
    IndicatorRead,
    RulesPublicationCreate,
    RulesPublicationRead,
    SubjectCreate,
    SubjectRead,
    SubjectUpdate,
    YearOpen,
    YearRead,
    YearUpdate,
)
from shared.auth import CurrentPrincipal, Principal
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.errors import Forbidden
from shared.months import policy_today
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.writes import UpdateDep, WriteDep

router = APIRouter(prefix="/api/appraisal/v1", tags=["years"])


async def year_opener(principal: CurrentPrincipal) -> Principal:
    """Opening a year takes appraisal:admin, or appraisal:write as staff of the city."""
    if not (principal.has_scope("appraisal:admin") or principal.has_scope("appraisal:write")):
        raise Forbidden("Opening a year needs the scope appraisal:admin or appraisal:write.")
    return principal


Opener = Annotated[Principal, Depends(year_opener)]


@router.post(
    "/years",
    status_code=201,
    response_model=YearRead,
    summary="Open an appraisal year for a scheme (creates its county and zone subjects)",
    responses=problem_responses(403, 409, 422),
)
async def open_year(
    data: YearOpen, request: Request, session: SessionDep, principal: Opener, write: WriteDep
) -> Response:
    if replay := await write.replay():
        return replay
    history = service.require_known_scheme(
        schemes=schemes_of(request), scheme=data.scheme, field="body.scheme"
    )
    context = await service.open_year(write=write, history=history, data=data)
    body = await service.year_read(session=session, context=context)
    return await write.respond(201, body, record=context.year)


@router.get("/years", response_model=Page[YearRead], summary="Appraisal years you can see")
async def list_years(
    request: Request,
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    scheme: Annotated[str | None, Query(max_length=64, json_schema_extra=scheme_enum())] = None,
) -> Page[YearRead]:
    years = await service.visible_years(
        session=session, principal=principal, schemes=schemes_of(request), scheme=scheme
    )
    chosen = years[page.offset : page.offset + page.limit]
    items = [await service.year_read(session=session, context=context) for context in chosen]
    return Page.of(items, len(years), page)


@router.get(
    "/years/{year}",
    response_model=YearRead,
    summary="An appraisal year: caps, publication, subjects per stage",
    responses=problem_responses(404, 409),
)
async def read_year(principal: Reader, context: YearDep, response: Response, session: SessionDep) -> YearRead:
    set_etag(response, context.year.id, context.year.version)
    return await service.year_read(session=session, context=context)


@router.patch(
    "/years/{year}",
    response_model=YearRead,
    summary="Set the caps the year's 方案/细则 fix (before the comprehensive evaluation)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def update_year(
    principal: Writer,
    context: YearDep,
    data: YearUpdate,
    response: Response,
    session: SessionDep,
    write: UpdateDep,
) -> YearRead:
    context = await service.update_year(write=write, context=context, data=data)
    set_etag(response, context.year.id, context.year.version)
    return await service.year_read(session=session, context=context)


@router.get(
    "/years/{year}/subjects",
    response_model=Page[SubjectRead],
    summary="The year's subjects you can see, with their stages",
    responses=problem_responses(404, 409),
)
async def list_subjects(
    principal: Reader, context: YearDep, session: SessionDep, page: PageDep
) -> Page[SubjectRead]:
    subjects = await service.visible_subjects(session=session, context=context, principal=principal)
    chosen = subjects[page.offset : page.offset + page.limit]
    return Page.of([service.subject_read(context, subject) for subject in chosen], len(subjects), page)


@router.post(
    "/years/{year}/subjects",
    status_code=201,
    response_model=SubjectRead,
    summary="Add a member department as a subject (where the scheme appraises them)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_subject(
    principal: Writer,
    context: YearDep,
    data: SubjectCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    subject = await service.add_department(write=write, context=context, data=data)
    return await write.respond(
        201,
        service.subject_read(context, subject),
        record=subject,
    )


@router.get(
    "/years/{year}/subjects/{subject}",
    response_model=SubjectRead,
    summary="A subject: its stage, publication and rectification due day",
    responses=problem_responses(404, 409),
)
async def read_subject(
    principal: Reader, context: YearDep, subject: SubjectDep, response: Response
) -> SubjectRead:
    set_etag(response, subject.id, subject.version)
    return service.subject_read(context, subject)


@router.patch(
    "/years/{year}/subjects/{subject}",
    response_model=SubjectRead,
    summary="Rename a subject or record its outstanding results (成效突出)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def update_subject(
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: SubjectUpdate,
    response: Response,
    write: UpdateDep,
) -> SubjectRead:
    subject = await service.update_subject(write=write, context=context, subject=subject, data=data)
    set_etag(response, subject.id, subject.version)
    return service.subject_read(context, subject)


@router.get(
    "/years/{year}/indicators",
    response_model=Page[IndicatorRead],
    summary="The year's indicators (content areas with points and scoring departments)",
    responses=problem_responses(404, 409),
)
async def list_indicators(
    principal: Reader, context: YearDep, session: SessionDep, page: PageDep
) -> Page[IndicatorRead]:
    indicators = await service.indicators(session=session, context=context)
    chosen = indicators[page.offset : page.offset + page.limit]
    return Page.of(
        [service.indicator_read(context.scheme, indicator) for indicator in chosen], len(indicators), page
    )


@router.post(
    "/years/{year}/indicators",
    status_code=201,
    response_model=IndicatorRead,
    summary="Add an indicator of the year (base points add up to at most 100)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_indicator(
    principal: Writer,
    context: YearDep,
    data: IndicatorCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    indicator = await service.add_indicator(write=write, context=context, data=data)
    return await write.respond(201, service.indicator_read(context.scheme, indicator))


@router.post(
    "/years/{year}/rules-publication",
    status_code=201,
    response_model=RulesPublicationRead,
    summary="Record the publication of the year's detailed rules (细则) or plan (方案)",
    responses=problem_responses(403, 404, 409, 422),
)
async def record_rules_publication(
    principal: Writer,
    context: YearDep,
    data: RulesPublicationCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    await service.record_rules_publication(write=write, context=context, data=data)
    body = await service.rules_publication_status(session=session, context=context, today=policy_today())
    return await write.respond(201, body)


@router.get(
    "/years/{year}/rules-publication",
    response_model=RulesPublicationRead,
    summary="The year's rules documents: deadlines, publications, warnings when overdue",
    responses=problem_responses(404, 409),
)
async def read_rules_publication(
    principal: Reader, context: YearDep, session: SessionDep
) -> RulesPublicationRead:
    return await service.rules_publication_status(session=session, context=context, today=policy_today())
