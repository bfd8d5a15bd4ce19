"""Gathering a published year's stored history for the consequence rules (findings.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.assessment import repository as assessment
from appraisal.consequences.findings import (
    Finding,
    RankedResult,
    rectification_findings,
    rules_publication_warnings,
    year_consequences,
)
from appraisal.consequences.schemas import ConsequencesRead
from appraisal.evaluation import repository as evaluation
from appraisal.interpretations import AppraisalInterpretations
from appraisal.rectification.service import latest_reports
from appraisal.years import repository as years
from appraisal.years import roles
from appraisal.years.models import Subject
from appraisal.years.schemas import FindingRead, IntervieweeRead
from appraisal.years.service import YearContext
from shared.auth import Principal
from shared.errors import Conflict


def _reads(findings: Sequence[Finding]) -> list[FindingRead]:
    return [
        FindingRead(
            subject=finding.subject,
            reason=finding.reason,
            detail=finding.detail,
            citation=finding.citation,
            interpretations=list(finding.interpretations),
            interviewees=[
                IntervieweeRead(who=item.who, when_necessary=item.when_necessary, by=item.by)
                for item in finding.interviewees
            ],
        )
        for finding in findings
    ]


async def consequences(
    *,
    session: AsyncSession,
    context: YearContext,
    principal: Principal,
    interpretations: AppraisalInterpretations,
    today: dt.date,
) -> ConsequencesRead:
    year, scheme = context.year, context.scheme
    roles.require_city_staff(principal, year, "The consequences of the appraisal")
    if year.published_on is None:
        raise Conflict(f"The results of {context.label} are not published yet.")
    span = max(scheme.interviews.leaders.consecutive_years, 2)
    earlier = list(range(year.year - span + 1, year.year))
    published = await evaluation.latest_published(session, year.scheme, [*earlier, year.year])
    this_year = published.get(year.year, {})
    results = [
        RankedResult(subject=code, rank=row.rank, grade=row.grade, total=row.total)  # type: ignore[arg-type]
        for code, row in sorted(this_year.items())
    ]
    history = {
        each: {code: row.rank for code, row in published[each].items() if row.rank is not None}
        for each in earlier
        if each in published
    }
    totals = {each: {code: row.total for code, row in published[each].items()} for each in history}
    subjects = await years.subjects_of(session, year.id)
    by_id: dict[uuid.UUID, Subject] = {subject.id: subject for subject in subjects}
    unresolved = [
        by_id[subject_id].code for subject_id in await assessment.subjects_not_rectified(session, list(by_id))
    ]
    circumstances: dict[str, list[str]] = defaultdict(list)
    for finding in await evaluation.findings_of(session, list(by_id)):
        circumstances[by_id[finding.subject_id].code].append(finding.circumstance)
    for incident in await evaluation.incidents_counted_in(session, year.scheme, year.year):
        if incident.circumstance is not None:
            circumstances[incident.subject_code].append(incident.circumstance)
    lists = year_consequences(
        scheme,
        year=year.year,
        results=results,
        rank_history=history,
        score_history=totals,
        interpretations=interpretations,
        unresolved_rectification=unresolved,
        outstanding=[subject.code for subject in subjects if subject.outstanding_note],
        circumstances=circumstances,
    )
    reporting = [
        subject
        for subject in subjects
        if subject.published_on is not None and not roles.is_department_subject(subject, year)
    ]
    reports = await latest_reports(session=session, subjects=reporting)
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
        item.document: item.published_on for item in await years.rules_publications_of(session, year.id)
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
