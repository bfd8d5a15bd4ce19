"""HTTP for appraisal years, their subjects, indicators and the publication of their rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from appraisal.access import Reader, Writer
from appraisal.schemes.enums import scheme_enum
from appraisal.schemes.state import schemes_of
from appraisal.years import repository, roles, service
from appraisal.years.models import AppraisalYear, Subject
from appraisal.years.params import SchemeQuery, SubjectPath, YearPath, year_context
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
from appraisal.years.service import YearContext
from shared.auth import CurrentPrincipal, Principal
from shared.concurrency import IfMatch, etag_for, require_if_match, set_etag
from shared.db import SessionDep
from shared.errors import Forbidden
from shared.idempotency import IdempotencyDep
from shared.months import policy_today
from shared.pagination import Page, PageDep
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["years"])


async def year_opener(principal: CurrentPrincipal) -> Principal:
    """Opening a year takes appraisal:admin, or appraisal:write as staff of the city."""
    if not (principal.has_scope("appraisal:admin") or principal.has_scope("appraisal:write")):
        raise Forbidden("Opening a year needs the scope appraisal:admin or appraisal:write.")
    return principal


Opener = Annotated[Principal, Depends(year_opener)]


def year_tag(year: AppraisalYear) -> str:
    return f"{year.scheme}-{year.year}"


def subject_tag(year: AppraisalYear, subject: Subject) -> str:
    return f"{year.scheme}-{year.year}-{subject.code}"


@router.post(
    "/years",
    status_code=201,
    response_model=YearRead,
    summary="Open an appraisal year for a scheme (creates its county and zone subjects)",
    responses=problem_responses(403, 409, 422),
)
async def open_year(
    data: YearOpen, request: Request, session: SessionDep, principal: Opener, idempotency: IdempotencyDep
) -> Response:
    if replay := await idempotency.replay():
        return replay
    scheme = service.require_known_scheme(schemes_of(request), data.scheme, "body.scheme")
    context = await service.open_year(session, scheme=scheme, data=data, principal=principal)
    body = await service.year_read(session, context)
    return await idempotency.respond(
        201, body, headers={"ETag": etag_for(year_tag(context.year), context.year.version)}
    )


@router.get("/years", response_model=Page[YearRead], summary="Appraisal years you can see")
async def list_years(
    request: Request,
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    scheme: Annotated[str | None, Query(max_length=64, json_schema_extra=scheme_enum())] = None,
) -> Page[YearRead]:
    schemes = schemes_of(request)
    if scheme is not None:
        service.require_known_scheme(schemes, scheme)
    rows = [
        row
        for row in await repository.years_numbered_any(session, scheme)
        if roles.sees_year(principal, row) and row.scheme in schemes
    ]
    chosen = rows[page.offset : page.offset + page.limit]
    items = [
        await service.year_read(session, YearContext(row, schemes[row.scheme], schemes[row.scheme]))
        for row in chosen
    ]
    return Page.of(items, len(rows), page)


@router.get(
    "/years/{year}",
    response_model=YearRead,
    summary="An appraisal year: caps, publication, subjects per stage",
    responses=problem_responses(404, 409),
)
async def read_year(
    year: YearPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> YearRead:
    context = await year_context(request, session, principal, year, scheme)
    set_etag(response, year_tag(context.year), context.year.version)
    return await service.year_read(session, context)


@router.patch(
    "/years/{year}",
    response_model=YearRead,
    summary="Set the caps the year's 方案/细则 fix (before the comprehensive evaluation)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def update_year(
    year: YearPath,
    data: YearUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    scheme: SchemeQuery = None,
    if_match: IfMatch = None,
) -> YearRead:
    context = await year_context(request, session, principal, year, scheme)
    require_if_match(if_match, year_tag(context.year), context.year.version)
    context = await service.update_year(session, context=context, data=data, principal=principal)
    set_etag(response, year_tag(context.year), context.year.version)
    return await service.year_read(session, context)


@router.get(
    "/years/{year}/subjects",
    response_model=Page[SubjectRead],
    summary="The year's subjects you can see, with their stages",
    responses=problem_responses(404, 409),
)
async def list_subjects(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    scheme: SchemeQuery = None,
) -> Page[SubjectRead]:
    context = await year_context(request, session, principal, year, scheme)
    subjects = [
        s
        for s in await repository.subjects_of(session, context.year.id)
        if roles.sees_subject(principal, context.year, s)
    ]
    chosen = subjects[page.offset : page.offset + page.limit]
    return Page.of([service.subject_read(context, s) for s in chosen], len(subjects), page)


@router.post(
    "/years/{year}/subjects",
    status_code=201,
    response_model=SubjectRead,
    summary="Add a member department as a subject (where the scheme appraises them)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_subject(
    year: YearPath,
    data: SubjectCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    if replay := await idempotency.replay():
        return replay
    subject = await service.add_department(session, context=context, data=data, principal=principal)
    return await idempotency.respond(
        201,
        service.subject_read(context, subject),
        headers={"ETag": etag_for(subject_tag(context.year, subject), subject.version)},
    )


@router.get(
    "/years/{year}/subjects/{subject}",
    response_model=SubjectRead,
    summary="A subject: its stage, publication and rectification due day",
    responses=problem_responses(404, 409),
)
async def read_subject(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> SubjectRead:
    context = await year_context(request, session, principal, year, scheme)
    found = await service.find_subject(session, context, principal, subject)
    set_etag(response, subject_tag(context.year, found), found.version)
    return service.subject_read(context, found)


@router.patch(
    "/years/{year}/subjects/{subject}",
    response_model=SubjectRead,
    summary="Rename a subject or record its outstanding results (成效突出)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def update_subject(
    year: YearPath,
    subject: SubjectPath,
    data: SubjectUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    scheme: SchemeQuery = None,
    if_match: IfMatch = None,
) -> SubjectRead:
    context = await year_context(request, session, principal, year, scheme)
    found = await service.find_subject(session, context, principal, subject, lock=True)
    require_if_match(if_match, subject_tag(context.year, found), found.version)
    found = await service.update_subject(
        session, context=context, subject=found, data=data, principal=principal
    )
    set_etag(response, subject_tag(context.year, found), found.version)
    return service.subject_read(context, found)


@router.get(
    "/years/{year}/indicators",
    response_model=Page[IndicatorRead],
    summary="The year's indicators (content areas with points and scoring departments)",
    responses=problem_responses(404, 409),
)
async def list_indicators(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    scheme: SchemeQuery = None,
) -> Page[IndicatorRead]:
    context = await year_context(request, session, principal, year, scheme)
    indicators = await repository.indicators_of(session, context.year.id)
    chosen = indicators[page.offset : page.offset + page.limit]
    return Page.of([service.indicator_read(context.scheme, i) for i in chosen], len(indicators), page)


@router.post(
    "/years/{year}/indicators",
    status_code=201,
    response_model=IndicatorRead,
    summary="Add an indicator of the year (base points add up to at most 100)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_indicator(
    year: YearPath,
    data: IndicatorCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    if replay := await idempotency.replay():
        return replay
    indicator = await service.add_indicator(session, context=context, data=data, principal=principal)
    return await idempotency.respond(201, service.indicator_read(context.scheme, indicator))


@router.post(
    "/years/{year}/rules-publication",
    status_code=201,
    response_model=RulesPublicationRead,
    summary="Record the publication of the year's detailed rules (细则) or plan (方案)",
    responses=problem_responses(403, 404, 409, 422),
)
async def record_rules_publication(
    year: YearPath,
    data: RulesPublicationCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    if replay := await idempotency.replay():
        return replay
    await service.record_rules_publication(session, context=context, data=data, principal=principal)
    body = await service.rules_publication_status(session, context=context, today=policy_today())
    return await idempotency.respond(201, body)


@router.get(
    "/years/{year}/rules-publication",
    response_model=RulesPublicationRead,
    summary="The year's rules documents: deadlines, publications, warnings when overdue",
    responses=problem_responses(404, 409),
)
async def read_rules_publication(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> RulesPublicationRead:
    context = await year_context(request, session, principal, year, scheme)
    return await service.rules_publication_status(session, context=context, today=policy_today())
