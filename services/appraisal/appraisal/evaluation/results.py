"""The comprehensive evaluation (综合评议): grade the year from the stored figures, keep the
results, publish them (结果通报) and read them back.

After publication a result changes only through a recorded reopening: a computation that
would change a published result is refused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.consequences.findings import rectification_deadline
from appraisal.evaluation import repository
from appraisal.evaluation.figures import Figures, gather_figures
from appraisal.evaluation.models import PublishedResult, Result
from appraisal.evaluation.schemas import ResultRead, YearResults
from appraisal.grading.schemas import AppliedRule, GradedSubject, GradingRequest, GradingSubject
from appraisal.grading.scoring import grade_subjects
from appraisal.interpretations import AppraisalInterpretations
from appraisal.schemes.pack import Scheme
from appraisal.workflow.states import AFTER_PUBLICATION, REOPEN_TO, Stage
from appraisal.years import repository as years
from appraisal.years import roles
from appraisal.years.models import Subject
from appraisal.years.service import YearContext
from shared.auth import Principal
from shared.errors import Conflict
from shared.writes import Event, WriteContext


@dataclass(frozen=True)
class Computed:
    subject: Subject
    figures: Figures
    graded: GradedSubject


def _not_ranked(scheme: Scheme, subjects: Iterable[Subject]) -> dict[str, AppliedRule]:
    kinds = {item.kind: item for item in scheme.subjects}
    rules = {}
    for subject in subjects:
        if subject.ranked or subject.is_zone:
            continue  # zones are the grading rules' own case
        kind = kinds.get(subject.kind)
        rules[subject.code] = AppliedRule(
            rule="subject_kind_exclusion",
            detail=f"{kind.name if kind else subject.kind}: not ranked and not graded",
            citation=kind.citation if kind else scheme.citation,
        )
    return rules


async def compute(
    *, session: AsyncSession, context: YearContext, interpretations: AppraisalInterpretations
) -> list[Computed]:
    """Grade the year from the stored figures (nothing is written). Every ranked subject must
    have reached the comprehensive evaluation; unranked ones are graded once they have."""
    scheme = context.scheme
    subjects = await years.subjects_of(session, context.year.id)
    reached = [subject for subject in subjects if context.reached_evaluation(subject)]
    behind = [subject.code for subject in subjects if subject.ranked and subject not in reached]
    if behind:
        raise Conflict(
            "The ranking needs every ranked subject at the comprehensive evaluation; not yet: "
            + ", ".join(behind)
        )
    if not reached:
        raise Conflict(f"No subject of {context.label} has reached the comprehensive evaluation.")
    figures = await gather_figures(session=session, context=context, subjects=reached)
    request = GradingRequest(
        scheme=scheme.scheme,
        subjects=[
            GradingSubject(
                id=subject.code,
                base=figures[subject.id].base,
                ad_hoc=figures[subject.id].ad_hoc,
                bonus=figures[subject.id].bonus,
                provincial_bonus=figures[subject.id].provincial_bonus,
                deductions=figures[subject.id].deductions,
                provincial_deduction=figures[subject.id].provincial_deduction,
                downgrades=len(figures[subject.id].downgrade_circumstances),
                veto=figures[subject.id].veto,
                zone=subject.is_zone,
            )
            for subject in reached
        ],
    )
    graded = grade_subjects(
        request,
        {scheme.scheme: scheme},
        interpretations,
        location="stored",
        not_ranked=_not_ranked(scheme, reached),
    )
    by_code = {item.id: item for item in graded.results}
    computed = []
    for subject in reached:
        item = figures[subject.id]
        result = by_code[subject.code]
        result = result.model_copy(update={"applied": [*item.notes, *result.applied]})
        computed.append(Computed(subject, item, result))
    return computed


def _same(stored: Result, computed: Computed) -> bool:
    return (
        stored.total == computed.graded.total
        and stored.rank == computed.graded.rank
        and stored.grade == computed.graded.grade
    )


async def run_evaluation(
    *, write: WriteContext, context: YearContext, interpretations: AppraisalInterpretations
) -> list[Computed]:
    """Compute and keep the results of the subjects at the comprehensive evaluation; refuse
    when that would change a published result (reopen that subject first)."""
    session, principal = write.session, write.principal
    roles.require_city_staff(principal, context.year, "The comprehensive evaluation")
    await years.lock_year(session, context.year.id)  # one computation of a year at a time
    computed = await compute(session=session, context=context, interpretations=interpretations)
    stored = await repository.results_of(session, [item.subject.id for item in computed])
    changed = [
        item.subject.code
        for item in computed
        if Stage(item.subject.stage) in AFTER_PUBLICATION
        and (item.subject.id not in stored or not _same(stored[item.subject.id], item))
    ]
    if changed:
        raise Conflict(
            "The evaluation would change published results of "
            + ", ".join(changed)
            + f"; a published result changes only by a recorded reopening to {REOPEN_TO.value}."
        )
    for item in computed:
        if Stage(item.subject.stage) in AFTER_PUBLICATION:
            continue
        row = stored.get(item.subject.id)
        if row is None:
            row = Result(subject_id=item.subject.id)
            session.add(row)
        _fill(row, item, principal.actor)
    await write.flush()
    await write.record(
        action="evaluate",
        entity="year",
        entity_id=f"{context.year.scheme}:{context.year.year}",
        jurisdiction=context.year.city,
        after={
            item.subject.code: {
                "total": str(item.graded.total),
                "rank": item.graded.rank,
                "grade": item.graded.grade,
            }
            for item in computed
        },
        event=None,
    )
    return computed


def _fill(row: Result, item: Computed, actor: str) -> None:
    figures, graded = item.figures, item.graded
    row.base = figures.base
    row.ad_hoc = figures.ad_hoc
    row.bonus = figures.bonus
    row.provincial_bonus = figures.provincial_bonus
    row.deductions = figures.deductions
    row.provincial_deduction = figures.provincial_deduction
    row.downgrades = len(figures.downgrade_circumstances)
    row.veto = figures.veto
    row.total = graded.total
    row.rank = graded.rank
    row.grade = graded.grade
    row.applied = [rule.model_dump(mode="json") for rule in graded.applied]
    row.computed_by = actor
    row.computed_at = dt.datetime.now(dt.UTC)


async def ensure_publishable(
    *,
    session: AsyncSession,
    context: YearContext,
    subjects: Sequence[Subject],
    interpretations: AppraisalInterpretations,
) -> dict[uuid.UUID, Result]:
    """Each subject has a kept result that a fresh computation confirms (nothing changed since
    the comprehensive evaluation ran)."""
    stored = await repository.results_of(session, [subject.id for subject in subjects])
    missing = [subject.code for subject in subjects if subject.id not in stored]
    if missing:
        raise Conflict("Run the comprehensive evaluation first: no result for " + ", ".join(missing))
    fresh = {
        item.subject.id: item
        for item in await compute(session=session, context=context, interpretations=interpretations)
    }
    stale = [
        subject.code
        for subject in subjects
        if subject.id not in fresh or not _same(stored[subject.id], fresh[subject.id])
    ]
    if stale:
        raise Conflict(
            "The figures changed since the comprehensive evaluation ran; run it again before "
            "publishing: " + ", ".join(stale)
        )
    return stored


async def publish(
    *, write: WriteContext, context: YearContext, subject: Subject, result: Result, published_on: dt.date
) -> None:
    """结果通报: keep the published result (history) and start the rectification month."""
    session, principal = write.session, write.principal
    year = context.year
    previous = await repository.publications_of(session, subject.id)
    session.add(
        PublishedResult(
            subject_id=subject.id,
            scheme=year.scheme,
            year=year.year,
            subject_code=subject.code,
            base=result.base,
            ad_hoc=result.ad_hoc,
            bonus=result.bonus,
            provincial_bonus=result.provincial_bonus,
            deductions=result.deductions,
            provincial_deduction=result.provincial_deduction,
            downgrades=result.downgrades,
            veto=result.veto,
            total=result.total,
            rank=result.rank,
            grade=result.grade,
            applied=result.applied,
            published_on=published_on,
            published_by=principal.actor,
            publication=previous + 1,
        )
    )
    subject.published_on = published_on
    if year.published_on is None:
        year.published_on = published_on
    path = f"/years/{year.year}/subjects/{subject.code}?scheme={year.scheme}"
    facts = {"scheme": year.scheme, "year": year.year, "subject": subject.code, "published_on": published_on}
    await write.emit(
        Event(
            type="results.published",
            subject=path,
            jurisdiction=subject.jurisdiction,
            data={
                **facts,
                "publication": previous + 1,
                "total": str(result.total),
                "rank": result.rank,
                "grade": result.grade,
                "veto": result.veto,
            },
        )
    )
    await write.emit(
        Event(
            type="rectification.due",
            subject=path,
            jurisdiction=subject.jurisdiction,
            data={**facts, "report_due_by": rectification_deadline(context.scheme, published_on)},
        )
    )


async def year_results(*, session: AsyncSession, context: YearContext, principal: Principal) -> YearResults:
    """The year's kept results the caller may see: city staff see every result, computed or
    published; others see the published results of the subjects they can see."""
    subjects = await years.subjects_of(session, context.year.id)
    staff = roles.is_city_staff(principal, context.year)
    visible = [subject for subject in subjects if roles.sees_subject(principal, context.year, subject)]
    if not staff:
        visible = [subject for subject in visible if Stage(subject.stage) in AFTER_PUBLICATION]
    stored = await repository.results_of(session, [subject.id for subject in visible])
    with_results = [subject for subject in visible if subject.id in stored]
    figures = (
        await gather_figures(session=session, context=context, subjects=with_results) if with_results else {}
    )
    reads = [_result_read(subject, stored[subject.id], figures[subject.id]) for subject in with_results]
    reads.sort(key=lambda read: (read.rank is None, read.rank or 0, read.subject))
    return YearResults(
        year=context.year.year,
        scheme=context.year.scheme,
        document=context.scheme.document,
        published_on=context.year.published_on,
        results=reads,
    )


def _result_read(subject: Subject, row: Result, figures: Figures) -> ResultRead:
    return ResultRead(
        subject=subject.code,
        name=subject.name,
        kind=subject.kind,
        is_zone=subject.is_zone,
        stage=Stage(subject.stage),
        base=row.base,
        ad_hoc=row.ad_hoc,
        bonus=row.bonus,
        provincial_bonus=row.provincial_bonus,
        deductions=row.deductions,
        provincial_deduction=row.provincial_deduction,
        downgrades=row.downgrades,
        veto=row.veto,
        total=row.total,
        rank=row.rank,
        grade=row.grade,
        applied=[AppliedRule.model_validate(rule) for rule in row.applied],
        problems=figures.problems,
        published=Stage(subject.stage) in AFTER_PUBLICATION,
        published_on=subject.published_on,
        computed_at=row.computed_at,
    )
