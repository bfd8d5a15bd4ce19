"""``rectification.overdue`` for the scheduler (:mod:`shared.events.scheduler`): a published
county or zone subject whose written rectification report is not in by the day after it was
due (Panjin art. 11, Zhumadian art. 14). Once per subject and publication; data: ids, the
subject's jurisdiction, the citation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.consequences.findings import rectification_deadline
from appraisal.rectification.service import latest_reports
from appraisal.schemes.history import SchemeHistory
from appraisal.years import roles
from appraisal.years.repository import every_year, subjects_of
from appraisal.years.service import year_context
from shared.errors import Conflict
from shared.events.scheduler import Check, Due
from shared.writes import Event


async def overdue_rectifications(
    *, session: AsyncSession, schemes: Mapping[str, SchemeHistory], today: dt.date
) -> list[Due]:
    dues = []
    for year in await every_year(session):
        try:
            context = year_context(schemes, year)
        except Conflict:
            continue  # its scheme's version is no longer loaded
        published = [
            subject
            for subject in await subjects_of(session, year.id)
            if subject.published_on is not None and not roles.is_department_subject(subject, year)
        ]
        reports = await latest_reports(session=session, subjects=published)
        for subject in published:
            assert subject.published_on is not None
            due_on = rectification_deadline(context.scheme, subject.published_on)
            if today <= due_on or subject.id in reports:
                continue
            dues.append(
                Due(
                    key=f"appraisal:rectification.overdue:{year.scheme}:{year.year}:{subject.code}:"
                    f"{subject.published_on.isoformat()}",
                    event=Event(
                        type="rectification.overdue",
                        subject=f"/years/{year.year}/subjects/{subject.code}?scheme={year.scheme}",
                        jurisdiction=subject.jurisdiction,
                        data={
                            "scheme": year.scheme,
                            "year": year.year,
                            "subject": subject.code,
                            "published_on": subject.published_on,
                            "due_on": due_on,
                            "citation": context.scheme.rectification.citation,
                        },
                    ),
                )
            )
    return dues


def scheduled_checks(app: FastAPI) -> Sequence[Check]:
    async def rectifications(session: AsyncSession, today: dt.date) -> list[Due]:
        schemes: Mapping[str, SchemeHistory] = app.state.schemes
        return await overdue_rectifications(session=session, schemes=schemes, today=today)

    return [rectifications]
