"""整改: the report due one month after publication (Panjin art. 11, Zhumadian art. 14),
tracked and flagged overdue."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.consequences.findings import rectification_deadline, rectification_findings
from appraisal.rectification import repository
from appraisal.rectification.models import RectificationReport
from appraisal.rectification.schemas import (
    MeasureRead,
    RectificationCreate,
    RectificationRead,
    RectificationStatus,
)
from appraisal.workflow.states import AFTER_PUBLICATION, Stage
from appraisal.years import roles
from appraisal.years.models import Subject
from appraisal.years.service import YearContext, visible_subjects
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.writes import WriteContext


def report_read(context: YearContext, subject: Subject, report: RectificationReport) -> RectificationRead:
    due = rectification_deadline(context.scheme, report.published_on)
    return RectificationRead(
        subject=subject.code,
        published_on=report.published_on,
        due_on=due,
        submitted_on=report.submitted_on,
        on_time=report.submitted_on <= due,
        summary=report.summary,
        measures=[MeasureRead.model_validate(item) for item in report.measures],
        submitted_by=report.submitted_by,
        citation=context.scheme.rectification.citation,
    )


async def submit(
    *, write: WriteContext, context: YearContext, subject: Subject, data: RectificationCreate, today: dt.date
) -> RectificationReport:
    """The subject's written report with measures and deadlines, answering its publication."""
    principal = write.principal
    roles.require_own_record(principal, context.year, subject, "The rectification report")
    if roles.is_department_subject(subject, context.year):
        raise Conflict(
            f"The rectification report is owed by the county and zone governments "
            f"({context.scheme.rectification.citation}), not by member departments."
        )
    if Stage(subject.stage) not in AFTER_PUBLICATION or subject.published_on is None:
        raise Conflict(
            f"A rectification report answers a published result; {subject.code} is at {subject.stage}."
        )
    submitted_on = data.submitted_on or today
    if submitted_on > today:
        raise Conflict(f"submitted_on {submitted_on.isoformat()} is in the future.")
    if submitted_on < subject.published_on:
        raise Conflict(
            f"submitted_on {submitted_on.isoformat()} is before the publication on "
            f"{subject.published_on.isoformat()}."
        )
    report = RectificationReport(
        subject_id=subject.id,
        published_on=subject.published_on,
        submitted_on=submitted_on,
        summary=data.summary,
        measures=[item.model_dump(mode="json") for item in data.measures],
        submitted_by=principal.actor,
    )
    await write.add(
        report,
        conflict=f"{subject.code} has already reported on the publication of "
        f"{subject.published_on.isoformat()}.",
    )
    await write.record(
        action="create",
        entity="rectification_report",
        entity_id=f"{context.year.scheme}:{context.year.year}:{subject.code}",
        jurisdiction=subject.jurisdiction,
        after={
            "published_on": subject.published_on.isoformat(),
            "submitted_on": submitted_on.isoformat(),
            "measures": report.measures,
        },
        event=None,
    )
    return report


async def latest_reports(
    *, session: AsyncSession, subjects: Sequence[Subject]
) -> dict[uuid.UUID, RectificationReport]:
    """Each subject's report on its latest publication, by subject id."""
    by_subject = {subject.id: subject for subject in subjects}
    rows = await repository.reports_of(session, list(by_subject))
    return {
        row.subject_id: row for row in rows if by_subject[row.subject_id].published_on == row.published_on
    }


async def report(*, session: AsyncSession, subject: Subject) -> RectificationReport:
    """The subject's report on its latest publication, else 404."""
    latest = (await latest_reports(session=session, subjects=[subject])).get(subject.id)
    if latest is None:
        raise NotFound(f"{subject.code} has not reported on its rectification.")
    return latest


async def statuses(
    *, session: AsyncSession, context: YearContext, principal: Principal, today: dt.date
) -> list[RectificationStatus]:
    """Every published subject the caller can see, with its report: submitted, late, pending
    or overdue."""
    subjects = await visible_subjects(session=session, context=context, principal=principal)
    published = [
        subject
        for subject in subjects
        if subject.published_on is not None and not roles.is_department_subject(subject, context.year)
    ]
    reports = await latest_reports(session=session, subjects=published)
    answer = []
    for subject in published:
        assert subject.published_on is not None
        report = reports.get(subject.id)
        findings = rectification_findings(
            context.scheme,
            published_on=subject.published_on,
            subjects=[subject.code],
            reports={subject.code: report.submitted_on} if report else {},
            today=today,
        )
        finding = findings[0] if findings else None
        if report is None:
            state = "overdue" if finding else "pending"
        else:
            state = "late" if finding else "submitted"
        answer.append(
            RectificationStatus(
                subject=subject.code,
                name=subject.name,
                published_on=subject.published_on,
                due_on=rectification_deadline(context.scheme, subject.published_on),
                submitted_on=report.submitted_on if report else None,
                status=state,
                detail=finding.detail if finding else None,
                citation=context.scheme.rectification.citation,
            )
        )
    return answer
