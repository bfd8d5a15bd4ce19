"""``GET /schemes``: the loaded schemes, their versions over time, each version in full."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from appraisal.access import Reader
from appraisal.schemes.enums import scheme_enum
from appraisal.schemes.history import SchemeHistory, SchemeVersion
from appraisal.schemes.pack import Scheme
from appraisal.schemes.schemas import SchemeSummary, SchemeVersionRead
from appraisal.schemes.state import schemes_of
from shared.dated_schemas import version_history_read
from shared.errors import NotFound
from shared.months import policy_today
from shared.pagination import Items
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["schemes"])
SchemeId = Annotated[str, Path(max_length=64, json_schema_extra=scheme_enum())]
VersionNumber = Annotated[int, Path(ge=1, le=1000, description="The version's number.")]


def _history(request: Request, scheme: str) -> SchemeHistory:
    histories = schemes_of(request)
    history = histories.get(scheme)
    if history is None:
        raise NotFound(f"No scheme {scheme}; known: {', '.join(sorted(histories))}.")
    return history


def _version_read(version: SchemeVersion) -> SchemeVersionRead:
    scheme = version.scheme
    correction = scheme.version.correction
    return SchemeVersionRead(
        scheme=scheme.scheme,
        version=version.number,
        document=scheme.document,
        issued_on=scheme.issued_on,
        valid_from=scheme.version.valid_from,
        valid_to=scheme.version.valid_to,
        citation=scheme.version.citation,
        **version_history_read(
            version,
            corrects=version.corrects,
            correction_reason=correction.reason if correction else None,
            correction_reference=correction.document_reference if correction else None,
        ),
    )


@router.get("/schemes", response_model=Items[SchemeSummary], summary="The loaded schemes, one per city")
async def list_schemes(request: Request, principal: Reader) -> Items[SchemeSummary]:
    today = policy_today()
    answer = []
    for history in schemes_of(request).values():
        scheme = history.current(today)
        answer.append(
            SchemeSummary(
                scheme=scheme.scheme,
                city=scheme.city,
                name=scheme.name,
                document=scheme.document,
                issued_on=scheme.issued_on,
                citation=scheme.citation,
                version=scheme.version.number,
                valid_from=scheme.version.valid_from,
                valid_to=scheme.version.valid_to,
            )
        )
    return Items.of(answer)


@router.get(
    "/schemes/{scheme}",
    response_model=Scheme,
    summary="A scheme in full as in force today, every item with its citation",
    responses=problem_responses(404),
)
async def read_scheme(scheme: SchemeId, request: Request, principal: Reader) -> Scheme:
    return _history(request, scheme).current(policy_today())


@router.get(
    "/schemes/{scheme}/versions",
    response_model=Items[SchemeVersionRead],
    summary="A scheme's versions over time: the days each is in force, what superseded or corrected what",
    responses=problem_responses(404),
)
async def list_scheme_versions(
    scheme: SchemeId, request: Request, principal: Reader
) -> Items[SchemeVersionRead]:
    return Items.of([_version_read(version) for version in _history(request, scheme).versions.values()])


@router.get(
    "/schemes/{scheme}/versions/{version}",
    response_model=Scheme,
    summary="One version of a scheme in full, as recorded",
    responses=problem_responses(404),
)
async def read_scheme_version(
    scheme: SchemeId, version: VersionNumber, request: Request, principal: Reader
) -> Scheme:
    recorded = _history(request, scheme).version(version)
    if recorded is None:
        raise NotFound(f"No version {version} of the scheme {scheme}.")
    return recorded.scheme
