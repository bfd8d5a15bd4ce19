"""Opening a year, its subjects and indicators, and the publication of its rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.consequences.findings import rectification_deadline, rules_publication_warnings
from appraisal.grading.points import points_text
from appraisal.schemes.history import SchemeHistory, SchemeVersion, describe
from appraisal.schemes.pack import Scheme
from appraisal.workflow.states import REOPEN_TO, Stage
from appraisal.years import repository, roles
from appraisal.years.models import AppraisalYear, Indicator, RulesPublication, Subject
from appraisal.years.schemas import (
    FindingRead,
    IndicatorCreate,
    IndicatorRead,
    RulesDocumentRead,
    RulesPublicationCreate,
    RulesPublicationRead,
    StageCount,
    SubjectCreate,
    SubjectRead,
    SubjectUpdate,
    YearOpen,
    YearRead,
    YearUpdate,
)
from shared.auth import Principal, ensure_jurisdiction
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.jurisdictions import registry
from shared.writes import WriteContext


@dataclass(frozen=True)
class YearContext:
    """A year, the version of its scheme (as loaded: ``pack``) and the scheme with the year's
    caps applied (``scheme``)."""

    year: AppraisalYear
    version: SchemeVersion
    scheme: Scheme

    @property
    def pack(self) -> Scheme:
        return self.version.scheme

    @property
    def label(self) -> str:
        return f"{self.year.scheme} {self.year.year}"

    def reached_evaluation(self, subject: Subject) -> bool:
        """The subject is at the comprehensive evaluation or past it (inputs are closed)."""
        order = self.scheme.stage_order()
        return order.index(Stage(subject.stage)) >= order.index(REOPEN_TO)


def with_caps(scheme: Scheme, year: AppraisalYear) -> Scheme:
    try:
        return scheme.with_year_caps(ad_hoc=year.ad_hoc_cap, deductions=year.deductions_cap)
    except InvalidInput as exc:  # caps stored before the pack changed
        raise Conflict(
            f"The caps of {year.scheme} {year.year} no longer fit the scheme: {exc.detail}"
        ) from exc


def require_known_scheme(
    *, schemes: Mapping[str, SchemeHistory], scheme: str, field: str = "query.scheme"
) -> SchemeHistory:
    """The schema lists the loaded schemes: any other value is refused (422)."""
    known = schemes.get(scheme)
    if known is None:
        raise InvalidInput.field(field, f"unknown scheme; known schemes: {', '.join(sorted(schemes))}")
    return known


def version_of_year(schemes: Mapping[str, SchemeHistory], year: AppraisalYear) -> SchemeVersion:
    """The version a year is appraised under: the one it was opened under, or the correction
    of it in force on the year's last day; 409 when the packs no longer have it."""
    history = schemes.get(year.scheme)
    version = None if history is None else history.of_year(year.year, year.scheme_version)
    if version is None:
        raise Conflict(
            f"Version {year.scheme_version} of the scheme {year.scheme}, which {year.scheme} {year.year} "
            "is appraised under, is no longer loaded."
        )
    return version


def year_context(schemes: Mapping[str, SchemeHistory], year: AppraisalYear) -> YearContext:
    version = version_of_year(schemes, year)
    return YearContext(year, version, with_caps(version.scheme, year))


async def find_year(
    *,
    session: AsyncSession,
    principal: Principal,
    schemes: Mapping[str, SchemeHistory],
    year: int,
    scheme: str | None,
) -> YearContext:
    """The year the caller means: ``scheme`` may be left out when only one is visible."""
    if scheme is not None:
        require_known_scheme(schemes=schemes, scheme=scheme)
    visible = [
        row
        for row in await repository.years_numbered(session, year, scheme)
        if roles.sees_year(principal, row)
    ]
    if not visible:
        named = f" for scheme {scheme}" if scheme else ""
        raise NotFound(f"No appraisal year {year}{named} is open in your area.")
    if len(visible) > 1:
        names = ", ".join(row.scheme for row in visible)
        raise Conflict(f"Year {year} is open for several schemes ({names}): name one with ?scheme=.")
    return year_context(schemes, visible[0])


async def find_subject(
    *, session: AsyncSession, context: YearContext, principal: Principal, code: str
) -> Subject:
    """The subject ``code`` of the year that the caller may see, else 404."""
    subject = await repository.subject_by_code(session, context.year.id, code)
    if subject is None or not roles.sees_subject(principal, context.year, subject):
        raise NotFound(f"No subject {code} in {context.label}.")
    return subject


async def visible_years(
    *, session: AsyncSession, principal: Principal, schemes: Mapping[str, SchemeHistory], scheme: str | None
) -> list[YearContext]:
    """Every year (of ``scheme``) the caller can see whose scheme version is loaded, latest first."""
    if scheme is not None:
        require_known_scheme(schemes=schemes, scheme=scheme)
    rows = [
        row for row in await repository.years_latest_first(session, scheme) if roles.sees_year(principal, row)
    ]
    return [
        YearContext(row, version, version.scheme)
        for row in rows
        if row.scheme in schemes and (version := schemes[row.scheme].of_year(row.year, row.scheme_version))
    ]


async def visible_subjects(
    *, session: AsyncSession, context: YearContext, principal: Principal
) -> list[Subject]:
    """The year's subjects the caller can see, by code."""
    return [
        subject
        for subject in await repository.subjects_of(session, context.year.id)
        if roles.sees_subject(principal, context.year, subject)
    ]


def year_json(year: AppraisalYear) -> dict[str, Any]:
    return {
        "scheme": year.scheme,
        "year": year.year,
        "city": year.city,
        "ad_hoc_cap": None if year.ad_hoc_cap is None else points_text(year.ad_hoc_cap),
        "deductions_cap": None if year.deductions_cap is None else points_text(year.deductions_cap),
        "published_on": None if year.published_on is None else year.published_on.isoformat(),
        "version": year.version,
    }


def subject_json(subject: Subject) -> dict[str, Any]:
    return {
        "code": subject.code,
        "name": subject.name,
        "kind": subject.kind,
        "stage": subject.stage,
        "published_on": None if subject.published_on is None else subject.published_on.isoformat(),
        "outstanding_note": subject.outstanding_note,
        "version": subject.version,
    }


async def year_read(*, session: AsyncSession, context: YearContext) -> YearRead:
    year, scheme = context.year, context.scheme
    counts = await repository.stage_counts(session, year.id)
    return YearRead(
        year=year.year,
        scheme=year.scheme,
        scheme_version=context.version.number,
        city=year.city,
        scheme_name=scheme.name,
        document=scheme.document,
        ad_hoc_cap=year.ad_hoc_cap,
        deductions_cap=year.deductions_cap,
        published_on=year.published_on,
        opened_by=year.opened_by,
        version=year.version,
        created_at=year.created_at,
        stages=[StageCount(stage=Stage(stage), subjects=count) for stage, count in counts],
    )


def subject_read(context: YearContext, subject: Subject) -> SubjectRead:
    step = next((item for item in context.scheme.workflow if item.stage == subject.stage), None)
    due = (
        rectification_deadline(context.scheme, subject.published_on)
        if subject.published_on is not None
        else None
    )
    return SubjectRead(
        code=subject.code,
        name=subject.name,
        kind=subject.kind,
        jurisdiction=subject.jurisdiction,
        is_zone=subject.is_zone,
        ranked=subject.ranked,
        stage=Stage(subject.stage),
        stage_name=step.name if step else subject.stage,
        stage_citation=step.citation if step else context.scheme.citation,
        stage_changed_at=subject.stage_changed_at,
        published_on=subject.published_on,
        rectification_due_on=due,
        outstanding_note=subject.outstanding_note,
        version=subject.version,
    )


def _checked_caps(scheme: Scheme, ad_hoc: Decimal | None, deductions: Decimal | None) -> Scheme:
    """The year's caps against the scheme, for a change of a year already open: the body names
    no scheme, so its schema cannot state the scheme's limits and a cap the scheme fixes, or
    one above the source's, conflicts with the year's scheme (409). Opening a year states them
    per scheme in the schema and refuses them with 422 (``Scheme.with_year_caps``)."""
    try:
        return scheme.with_year_caps(ad_hoc=ad_hoc, deductions=deductions)
    except InvalidInput as exc:
        raise Conflict(exc.detail, errors=exc.errors) from exc


async def open_year(*, write: WriteContext, history: SchemeHistory, data: YearOpen) -> YearContext:
    """Open the year under the version of the scheme in force on its last day, and create its
    subjects: every county, district or zone of the city that the scheme's subject kinds name
    (Panjin art. 3, Zhumadian art. 3). A year no version covers is refused (409)."""
    principal = write.principal
    city = history.latest().scheme.city
    codes = registry()
    if city not in codes:
        raise Conflict(
            f"The jurisdiction registry does not know {city}, the city of the scheme {history.scheme}: "
            "its counties, districts and zones cannot be appraised until it does."
        )
    ensure_jurisdiction(principal, city)
    if not (
        principal.has_scope("appraisal:admin")
        or (principal.has_scope("appraisal:write") and roles.is_city_staff_of(principal, city))
    ):
        raise Forbidden(f"A year is opened by the appraisal office of {city}.")
    version = history.for_year(data.year)
    if version is None:
        recorded = "; ".join(f"{v.label()}: {describe(v.in_force)}" for v in history.versions.values())
        raise Conflict(
            f"No version of the scheme {history.scheme} is in force on the last day of {data.year} "
            f"({recorded}).",
            extra={"versions": sorted(history.versions)},
        )
    scheme = version.scheme
    with_year = scheme.with_year_caps(ad_hoc=data.ad_hoc_cap, deductions=data.deductions_cap)
    year = AppraisalYear(
        scheme=scheme.scheme,
        scheme_version=version.number,
        year=data.year,
        city=scheme.city,
        ad_hoc_cap=data.ad_hoc_cap,
        deductions_cap=data.deductions_cap,
        opened_by=principal.actor,
    )
    await write.add(year, conflict=f"Year {data.year} is already open for {scheme.scheme}.")
    first = scheme.workflow[0].stage
    for kind in scheme.subjects:
        for code in codes.subtree(scheme.city):
            place = codes.require(code)
            if code == scheme.city or place.kind not in kind.jurisdiction_kinds:
                continue
            write.session.add(
                Subject(
                    year_id=year.id,
                    code=code,
                    name=place.name,
                    kind=kind.kind,
                    jurisdiction=code,
                    is_zone=place.is_zone,
                    ranked=kind.ranked,
                    stage=first.value,
                )
            )
    await write.flush()
    await write.record(
        action="open",
        entity="year",
        entity_id=f"{year.scheme}:{year.year}",
        jurisdiction=year.city,
        after=year_json(year),
        event=None,
    )
    return YearContext(year, version, with_year)


async def update_year(*, write: WriteContext, context: YearContext, data: YearUpdate) -> YearContext:
    """The caps the year's 方案/细则 set (compare-and-set on the year's version: If-Match)."""
    year = context.year
    write.expect_current(year)
    roles.require_city_staff(write.principal, year, "Setting the year's caps")
    subjects = await repository.subjects_of(write.session, year.id)
    late = [subject.code for subject in subjects if context.reached_evaluation(subject)]
    if late:
        raise Conflict(
            f"The caps are fixed once subjects reach the comprehensive evaluation ({', '.join(late)})."
        )
    before = year_json(year)
    changes = data.model_dump(exclude_unset=True)
    ad_hoc = changes.get("ad_hoc_cap", year.ad_hoc_cap)
    deductions = changes.get("deductions_cap", year.deductions_cap)
    scheme = _checked_caps(context.pack, ad_hoc, deductions)
    if ad_hoc is not None:
        indicators = await repository.indicators_of(write.session, year.id)
        used = sum((item.max_points for item in indicators if item.component == "ad_hoc"), Decimal(0))
        if used > ad_hoc:
            raise Conflict(
                f"The ad hoc indicators already carry {points_text(used)} points, above the cap of "
                f"{points_text(ad_hoc)}."
            )
    year.ad_hoc_cap, year.deductions_cap = ad_hoc, deductions
    await write.flush()
    await write.record(
        action="update",
        entity="year",
        entity_id=f"{year.scheme}:{year.year}",
        jurisdiction=year.city,
        before=before,
        after=year_json(year),
        event=None,
    )
    return YearContext(year, context.version, scheme)


async def add_department(*, write: WriteContext, context: YearContext, data: SubjectCreate) -> Subject:
    """A member department as a subject, where the scheme appraises them (Zhumadian art. 3)."""
    year, scheme = context.year, context.scheme
    roles.require_city_staff(write.principal, year, "Adding a subject")
    kind = next((item for item in scheme.subjects if not item.jurisdiction_kinds), None)
    if kind is None:
        raise Conflict(
            f"{scheme.document} appraises no member departments: its subjects are "
            f"{', '.join(item.name for item in scheme.subjects)} ({scheme.subjects[0].citation})."
        )
    if data.code in registry():
        raise Conflict(f"{data.code} is a jurisdiction code; give the department its own code.")
    subject = Subject(
        year_id=year.id,
        code=data.code,
        name=data.name,
        kind=kind.kind,
        jurisdiction=year.city,
        is_zone=False,
        ranked=kind.ranked,
        stage=scheme.workflow[0].stage.value,
    )
    await write.add(subject, conflict=f"{context.label} already has a subject {data.code}.")
    await write.record(
        action="create",
        entity="subject",
        entity_id=f"{year.scheme}:{year.year}:{subject.code}",
        jurisdiction=subject.jurisdiction,
        after=subject_json(subject),
        event=None,
    )
    return subject


async def update_subject(
    *, write: WriteContext, context: YearContext, subject: Subject, data: SubjectUpdate
) -> Subject:
    """Rename a subject or record its outstanding results (compare-and-set: If-Match)."""
    write.expect_current(subject)
    roles.require_city_staff(write.principal, context.year, "Changing a subject")
    before = subject_json(subject)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is not None:
        subject.name = changes["name"]
    if "outstanding_note" in changes:
        subject.outstanding_note = changes["outstanding_note"]
    await write.flush()
    await write.record(
        action="update",
        entity="subject",
        entity_id=f"{context.year.scheme}:{context.year.year}:{subject.code}",
        jurisdiction=subject.jurisdiction,
        before=before,
        after=subject_json(subject),
        event=None,
    )
    return subject


async def indicators(*, session: AsyncSession, context: YearContext) -> list[Indicator]:
    """The year's indicators by code (every reader of the year sees them)."""
    return await repository.indicators_of(session, context.year.id)


def indicator_read(scheme: Scheme, indicator: Indicator) -> IndicatorRead:
    area = next((item for item in scheme.content_areas if item.number == indicator.content_area), None)
    return IndicatorRead(
        code=indicator.code,
        name=indicator.name,
        content_area=indicator.content_area,
        content_area_name=area.name if area else f"content area {indicator.content_area}",
        component=indicator.component,
        max_points=indicator.max_points,
        department=indicator.department,
        description=indicator.description,
        citation=area.citation if area else scheme.citation,
    )


SCORED_COMPONENTS = ("base", "ad_hoc")
"""Indicators carry the base and ad hoc points; bonuses and deductions are adjustments."""


async def add_indicator(*, write: WriteContext, context: YearContext, data: IndicatorCreate) -> Indicator:
    """An indicator of the year; the base indicators add up to at most the base cap (100) and
    the ad hoc ones to at most the year's ad hoc cap."""
    session, principal = write.session, write.principal
    year, scheme = context.year, context.scheme
    roles.require_city_staff(principal, year, "Setting the year's indicators")
    area = next((item for item in scheme.content_areas if item.number == data.content_area), None)
    if area is None:
        numbers = ", ".join(str(item.number) for item in scheme.content_areas)
        raise Conflict(f"{scheme.document} has no content area {data.content_area} (areas {numbers}).")
    if area.component not in SCORED_COMPONENTS:
        raise Conflict(
            f"Content area {area.number} ({area.name}) is a {area.component} item: record it as an "
            "adjustment of a subject in the comprehensive evaluation, not as an indicator."
        )
    subjects = await repository.subjects_of(session, year.id)
    if any(context.reached_evaluation(subject) for subject in subjects):
        raise Conflict("Indicators are fixed once subjects reach the comprehensive evaluation.")
    existing = await repository.indicators_of(session, year.id)
    cap = getattr(scheme.score.caps, area.component)
    used = sum((item.max_points for item in existing if item.component == area.component), Decimal(0))
    if cap.max is not None and used + data.max_points > cap.max:
        raise Conflict(
            f"The {area.component} indicators would be worth {points_text(used + data.max_points)} "
            f"points, above the cap of {points_text(cap.max)} ({cap.citation})."
        )
    indicator = Indicator(
        year_id=year.id,
        code=data.code,
        name=data.name,
        content_area=area.number,
        component=area.component,
        max_points=data.max_points,
        department=data.department,
        description=data.description,
        created_by=principal.actor,
    )
    await write.add(indicator, conflict=f"{context.label} already has an indicator {data.code}.")
    await write.record(
        action="create",
        entity="indicator",
        entity_id=f"{year.scheme}:{year.year}:{indicator.code}",
        jurisdiction=year.city,
        after={
            "code": indicator.code,
            "content_area": indicator.content_area,
            "max_points": points_text(indicator.max_points),
            "department": indicator.department,
        },
        event=None,
    )
    return indicator


async def record_rules_publication(
    *, write: WriteContext, context: YearContext, data: RulesPublicationCreate
) -> RulesPublication:
    principal = write.principal
    year, scheme = context.year, context.scheme
    roles.require_city_staff(principal, year, "Recording the publication of the year's rules")
    documents = {item.document: item for item in scheme.rules_publication}
    if data.document not in documents:
        raise Conflict(
            f"{scheme.document} requires no document {data.document}; it requires "
            f"{', '.join(documents) or 'none'}."
        )
    publication = RulesPublication(
        year_id=year.id,
        document=data.document,
        published_on=data.published_on,
        title=data.title,
        reference=data.reference,
        recorded_by=principal.actor,
    )
    await write.add(publication, conflict=f"The {data.document} of {context.label} is already recorded.")
    await write.record(
        action="create",
        entity="rules_publication",
        entity_id=f"{year.scheme}:{year.year}:{data.document}",
        jurisdiction=year.city,
        after={"document": data.document, "published_on": data.published_on.isoformat()},
        event=None,
    )
    return publication


async def rules_publication_status(
    *, session: AsyncSession, context: YearContext, today: dt.date
) -> RulesPublicationRead:
    year, scheme = context.year, context.scheme
    recorded = {item.document: item for item in await repository.rules_publications_of(session, year.id)}
    warnings = rules_publication_warnings(
        scheme,
        year=year.year,
        published={document: item.published_on for document, item in recorded.items()},
        today=today,
    )
    documents = []
    for item in scheme.rules_publication:
        publication = recorded.get(item.document)
        documents.append(
            RulesDocumentRead(
                document=item.document,
                name=item.name,
                deadline=item.deadline_in(year.year),
                citation=item.citation,
                published_on=publication.published_on if publication else None,
                title=publication.title if publication else None,
                reference=publication.reference if publication else None,
                overdue=publication is None and today > item.deadline_in(year.year),
            )
        )
    return RulesPublicationRead(
        year=year.year,
        scheme=year.scheme,
        documents=documents,
        warnings=[FindingRead(**finding.__dict__) for finding in warnings],
    )
