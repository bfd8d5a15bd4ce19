"""Gathering a published year's stored history for the consequence rules (rules.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.assessment.models import MidYearReview
from appraisal.consequences.rules import (
    Finding,
    rectification_findings,
    rules_publication_warnings,
    year_consequences,
)
from appraisal.consequences.rules import (
    PublishedResult as RankedResult,
)
from appraisal.consequences.schemas import ConsequencesRead
from appraisal.evaluation.models import CircumstanceFinding, Incident, PublishedResult
from appraisal.rectification.service import reports_of
from appraisal.years import repository, roles
from appraisal.years.models import Subject
from appraisal.years.schemas import FindingRead
from appraisal.years.service import YearContext
from shared.auth import Principal
from shared.errors import Conflict


async def latest_published(
    session: AsyncSession, scheme: str, years: Sequence[int]
) -> dict[int, dict[str, PublishedResult]]:
    """Year → subject code → its last published result (a reopening publishes again)."""
    rows = await session.scalars(
        select(PublishedResult)
        .where(PublishedResult.scheme == scheme, PublishedResult.year.in_(list(years)))
        .order_by(PublishedResult.year, PublishedResult.publication, PublishedResult.recorded_at)
    )
    latest: dict[int, dict[str, PublishedResult]] = defaultdict(dict)
    for row in rows:
        latest[row.year][row.subject_code] = row
    return latest


def _reads(findings: Sequence[Finding]) -> list[FindingRead]:
    return [
        FindingRead(subject=f.subject, reason=f.reason, detail=f.detail, citation=f.citation)
        for f in findings
    ]


async def consequences(
    session: AsyncSession, *, context: YearContext, principal: Principal, today: dt.date
) -> ConsequencesRead:
    year, scheme = context.year, context.scheme
    roles.require_city_staff(principal, year, "The consequences of the appraisal")
    if year.published_on is None:
        raise Conflict(f"The results of {context.label} are not published yet.")
    span = max(scheme.interviews.leaders.consecutive_years, 2)
    earlier = list(range(year.year - span + 1, year.year))
    published = await latest_published(session, year.scheme, [*earlier, year.year])
    this_year = published.get(year.year, {})
    results = [
        RankedResult(subject=code, rank=row.rank, grade=row.grade)  # type: ignore[arg-type]
        for code, row in sorted(this_year.items())
    ]
    history = {
        each: {code: row.rank for code, row in published[each].items() if row.rank is not None}
        for each in earlier
        if each in published
    }
    subjects = await repository.subjects_of(session, year.id)
    by_id: dict[object, Subject] = {subject.id: subject for subject in subjects}
    unresolved = [
        by_id[subject_id].code
        for subject_id in await session.scalars(
            select(MidYearReview.subject_id).where(
                MidYearReview.subject_id.in_(list(by_id)), MidYearReview.last_year_rectified.is_(False)
            )
        )
    ]
    circumstances: dict[str, list[str]] = defaultdict(list)
    for subject_id, circumstance in await session.execute(
        select(CircumstanceFinding.subject_id, CircumstanceFinding.circumstance).where(
            CircumstanceFinding.subject_id.in_(list(by_id))
        )
    ):
        circumstances[by_id[subject_id].code].append(circumstance)
    for incident_subject, incident_circumstance in await session.execute(
        select(Incident.subject_code, Incident.circumstance).where(
            Incident.scheme == year.scheme,
            Incident.counted_year == year.year,
            Incident.circumstance.is_not(None),
        )
    ):
        if incident_circumstance is not None:
            circumstances[incident_subject].append(incident_circumstance)
    lists = year_consequences(
        scheme,
        year=year.year,
        results=results,
        rank_history=history,
        unresolved_rectification=unresolved,
        outstanding=[subject.code for subject in subjects if subject.outstanding_note],
        circumstances=circumstances,
    )
    reporting = [
        subject
        for subject in subjects
        if subject.published_on is not None and not roles.is_department_subject(subject, year)
    ]
    reports = await reports_of(session, reporting)
    overdue: list[Finding] = []
    for subject in reporting:
        assert subject.published_on is not None
        report = reports.get(subject.id)
        overdue.extend(
            rectification_findings(
                scheme,
                published_on=subject.published_on,
                subjects=[subject.code],
                reports={subject.code: report.submitted_on} if report else {},
                today=today,
            )
        )
    recorded = {
        item.document: item.published_on for item in await repository.rules_publications_of(session, year.id)
    }
    return ConsequencesRead(
        year=year.year,
        scheme=year.scheme,
        published_on=year.published_on,
        commendations=_reads(lists.commendations),
        leader_interviews=_reads(lists.leader_interviews),
        office_head_interviews=_reads(lists.office_head_interviews),
        barred_from_awards=_reads(lists.barred_from_awards),
        criticisms=_reads(lists.criticisms),
        rectification=_reads(overdue),
        rules_not_published=_reads(
            rules_publication_warnings(scheme, year=year.year, published=recorded, today=today)
        ),
        history_years=sorted(history),
    )
