"""The comprehensive evaluation (综合评议): gather a year's stored figures, grade them with the
grading engine, keep the results; record bonuses, deductions, circumstances and incidents.

After publication a result changes only through a recorded reopening: inputs for a published
subject are refused, and a computation that would change a published result is refused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.assessment.models import ReviewOpinion, ScoreEntry
from appraisal.consequences.rules import attribute_incident
from appraisal.db import audit_log
from appraisal.evaluation.models import (
    Adjustment,
    CircumstanceFinding,
    Incident,
    PublishedResult,
    Result,
)
from appraisal.evaluation.schemas import (
    AdjustmentCreate,
    CircumstanceCreate,
    IncidentCircumstance,
    IncidentDeduction,
    IncidentRead,
    ProblemItem,
    ResultRead,
)
from appraisal.evidence.models import EvidenceFile
from appraisal.grading.engine import grade_subjects
from appraisal.grading.points import plain_points, points_text
from appraisal.grading.schemas import (
    AppliedRule,
    GradedSubject,
    GradingRequest,
    GradingSubject,
    RuleName,
)
from appraisal.interpretations import AppraisalInterpretations
from appraisal.schemes.pack import Circumstance, Scheme
from appraisal.workflow.states import AFTER_PUBLICATION, REOPEN_TO, Stage
from appraisal.years import repository, roles
from appraisal.years.models import AppraisalYear, Indicator, Subject
from appraisal.years.service import YearContext
from shared.audit import record_audit
from shared.auth import Principal
from shared.errors import Conflict, Forbidden
from shared.jurisdictions import registry

ZERO = Decimal(0)


@dataclass
class Figures:
    """A subject's points for the grading engine, and the notes on how they were reached."""

    base: Decimal = ZERO
    ad_hoc: Decimal = ZERO
    bonus: Decimal = ZERO
    provincial_bonus: Decimal = ZERO
    deductions: Decimal = ZERO
    provincial_deduction: Decimal = ZERO
    downgrade_ids: set[str] = field(default_factory=set)
    veto: bool = False
    notes: list[AppliedRule] = field(default_factory=list)
    problems: list[ProblemItem] = field(default_factory=list)


@dataclass(frozen=True)
class Computed:
    subject: Subject
    figures: Figures
    graded: GradedSubject


def circumstance_effect(scheme: Scheme, circumstance_id: str) -> tuple[Circumstance, str]:
    """The catalogue entry and whether it downgrades or vetoes; 409 when the year's scheme does
    not list it."""
    for item in scheme.downgrade_circumstances:
        if item.id == circumstance_id:
            return item, "downgrade"
    for item in scheme.veto_circumstances:
        if item.id == circumstance_id:
            return item, "veto"
    raise Conflict(f"{scheme.document} lists no circumstance {circumstance_id}.")


def ensure_open_for_inputs(context: YearContext, subject: Subject) -> None:
    if Stage(subject.stage) in AFTER_PUBLICATION:
        raise Conflict(
            f"The result of {subject.code} is published ({subject.stage}): it changes only by a "
            f"recorded reopening to {REOPEN_TO.value}."
        )


async def gather_figures(
    session: AsyncSession, context: YearContext, subjects: Sequence[Subject]
) -> dict[uuid.UUID, Figures]:
    """Every subject's figures from the stored records, a handful of queries for the year:
    indicator points (the review opinion's where there is one, else the daily assessment's),
    adjustments, circumstances and the incidents counted in the year."""
    year, scheme = context.year, context.scheme
    ids = [subject.id for subject in subjects]
    figures = {subject.id: Figures() for subject in subjects}
    indicators = {item.id: item for item in await repository.indicators_of(session, year.id)}
    points: dict[tuple[uuid.UUID, uuid.UUID], Decimal] = {}
    entries = await session.execute(
        select(ScoreEntry.subject_id, ScoreEntry.indicator_id, ScoreEntry.points).where(
            ScoreEntry.year_id == year.id
        )
    )
    for subject_id, indicator_id, value in entries.all():
        points[(subject_id, indicator_id)] = value
    reviewed = await session.execute(
        select(ReviewOpinion.subject_id, ReviewOpinion.indicator_id, ReviewOpinion.points).where(
            ReviewOpinion.year_id == year.id
        )
    )
    for subject_id, indicator_id, value in reviewed.all():
        points[(subject_id, indicator_id)] = value  # the year-end review settles the points
    for (subject_id, indicator_id), value in points.items():
        if subject_id not in figures:
            continue
        indicator: Indicator = indicators[indicator_id]
        if indicator.component == "base":
            figures[subject_id].base += value
        else:
            figures[subject_id].ad_hoc += value

    adjustments = await session.scalars(
        select(Adjustment).where(Adjustment.subject_id.in_(ids)).order_by(Adjustment.recorded_at)
    )
    for adjustment in adjustments:
        item = figures[adjustment.subject_id]
        if adjustment.component == "bonus":
            if adjustment.provincial:
                item.provincial_bonus += adjustment.points
            else:
                item.bonus += adjustment.points
        else:
            if adjustment.provincial:
                item.provincial_deduction += adjustment.points
            else:
                item.deductions += adjustment.points
            item.problems.append(
                ProblemItem(
                    kind="deduction",
                    detail=f"{points_text(adjustment.points)} points: {adjustment.reason}",
                    citation=None,
                )
            )
    findings = await session.scalars(
        select(CircumstanceFinding)
        .where(CircumstanceFinding.subject_id.in_(ids))
        .order_by(CircumstanceFinding.recorded_at)
    )
    for finding in findings:
        _apply_circumstance(scheme, figures[finding.subject_id], finding.circumstance, finding.evidence)
    by_code = {subject.code: subject.id for subject in subjects}
    incidents = await session.scalars(
        select(Incident)
        .where(Incident.scheme == year.scheme, Incident.counted_year == year.year)
        .order_by(Incident.occurred_on)
    )
    for incident in incidents:
        incident_subject = by_code.get(incident.subject_code)
        if incident_subject is None:
            continue
        item = figures[incident_subject]
        item.problems.append(
            ProblemItem(
                kind="incident",
                detail=f"{incident.occurred_on.isoformat()}: {incident.description} ({incident.attribution})",
                citation=incident.citation,
            )
        )
        if incident.effect == "deduction" and incident.points is not None:
            item.deductions += incident.points
        elif incident.circumstance is not None:
            _apply_circumstance(scheme, item, incident.circumstance, incident.description)
    for item in figures.values():
        for name in ("base", "ad_hoc", "bonus", "provincial_bonus", "deductions", "provincial_deduction"):
            setattr(item, name, plain_points(getattr(item, name)))
        _cap(item, scheme)
    return figures


def _apply_circumstance(scheme: Scheme, item: Figures, circumstance_id: str, evidence: str) -> None:
    catalogue, effect = circumstance_effect(scheme, circumstance_id)
    if effect == "veto":
        item.veto = True
    else:
        item.downgrade_ids.add(catalogue.id)
    item.problems.append(
        ProblemItem(
            kind="veto" if effect == "veto" else "downgrade",
            detail=f"{catalogue.text}: {evidence}",
            citation=catalogue.citation,
        )
    )


CAP_RULES: dict[str, RuleName] = {
    "base": "base_cap",
    "ad_hoc": "ad_hoc_cap",
    "bonus": "bonus_cap",
    "deductions": "deductions_cap",
}


def _cap(item: Figures, scheme: Scheme) -> None:
    """Sums of several entries above a cap count up to the cap (the engine refuses more)."""
    caps = scheme.score.caps
    for name, cap in (
        ("base", caps.base),
        ("ad_hoc", caps.ad_hoc),
        ("bonus", caps.bonus),
        ("deductions", caps.deductions),
    ):
        value: Decimal = getattr(item, name)
        if cap.max is not None and value > cap.max:
            setattr(item, name, cap.max)
            item.notes.append(
                AppliedRule(
                    rule=CAP_RULES[name],
                    detail=f"recorded {name} {points_text(value)} counted up to the cap of "
                    f"{points_text(cap.max)}",
                    citation=cap.citation,
                )
            )


def _not_ranked(scheme: Scheme, subjects: Iterable[Subject]) -> dict[str, AppliedRule]:
    kinds = {item.kind: item for item in scheme.subjects}
    rules = {}
    for subject in subjects:
        if subject.ranked or subject.is_zone:
            continue  # zones are the engine's own rule
        kind = kinds.get(subject.kind)
        rules[subject.code] = AppliedRule(
            rule="subject_kind_exclusion",
            detail=f"{kind.name if kind else subject.kind}: not ranked and not graded",
            citation=kind.citation if kind else scheme.citation,
        )
    return rules


async def compute(
    session: AsyncSession, context: YearContext, interpretations: AppraisalInterpretations
) -> list[Computed]:
    """Grade the year from the stored figures (nothing is written). Every ranked subject must
    have reached the comprehensive evaluation; unranked ones are graded once they have."""
    scheme = context.scheme
    order = scheme.stage_order()
    subjects = await repository.subjects_of(session, context.year.id)
    reached = [s for s in subjects if order.index(Stage(s.stage)) >= order.index(REOPEN_TO)]
    behind = [s.code for s in subjects if s.ranked and s not in reached]
    if behind:
        raise Conflict(
            "The ranking needs every ranked subject at the comprehensive evaluation; not yet: "
            + ", ".join(behind)
        )
    if not reached:
        raise Conflict(f"No subject of {context.label} has reached the comprehensive evaluation.")
    figures = await gather_figures(session, context, reached)
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
                downgrades=len(figures[subject.id].downgrade_ids),
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


async def results_by_subject(
    session: AsyncSession, subject_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Result]:
    rows = await session.scalars(select(Result).where(Result.subject_id.in_(subject_ids)))
    return {row.subject_id: row for row in rows}


async def run_evaluation(
    session: AsyncSession,
    *,
    context: YearContext,
    principal: Principal,
    interpretations: AppraisalInterpretations,
) -> list[Computed]:
    """Compute and keep the results of the subjects at the comprehensive evaluation; refuse
    when that would change a published result (reopen that subject first)."""
    roles.require_city_staff(principal, context.year, "The comprehensive evaluation")
    await repository.lock_year(session, context.year.id)  # one computation of a year at a time
    computed = await compute(session, context, interpretations)
    stored = await results_by_subject(session, [item.subject.id for item in computed])
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
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
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
    row.downgrades = len(figures.downgrade_ids)
    row.veto = figures.veto
    row.total = graded.total
    row.rank = graded.rank
    row.grade = graded.grade
    row.applied = [rule.model_dump(mode="json") for rule in graded.applied]
    row.computed_by = actor
    row.computed_at = dt.datetime.now(dt.UTC)


async def ensure_publishable(
    session: AsyncSession,
    context: YearContext,
    subjects: Sequence[Subject],
    interpretations: AppraisalInterpretations,
) -> dict[uuid.UUID, Result]:
    """Each subject has a kept result that a fresh computation confirms (nothing changed since
    the comprehensive evaluation ran)."""
    stored = await results_by_subject(session, [subject.id for subject in subjects])
    missing = [subject.code for subject in subjects if subject.id not in stored]
    if missing:
        raise Conflict("Run the comprehensive evaluation first: no result for " + ", ".join(missing))
    fresh = {item.subject.id: item for item in await compute(session, context, interpretations)}
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
    session: AsyncSession,
    *,
    context: YearContext,
    subject: Subject,
    result: Result,
    published_on: dt.date,
    principal: Principal,
) -> None:
    """结果通报: keep the published result (history) and start the rectification month."""
    year: AppraisalYear = context.year
    previous = await session.scalar(
        select(func.count()).select_from(PublishedResult).where(PublishedResult.subject_id == subject.id)
    )
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
            publication=(previous or 0) + 1,
        )
    )
    subject.published_on = published_on
    if year.published_on is None:
        year.published_on = published_on
        year.version += 1


async def record_adjustment(
    session: AsyncSession,
    *,
    context: YearContext,
    subject: Subject,
    data: AdjustmentCreate,
    principal: Principal,
) -> Adjustment:
    roles.require_city_staff(principal, context.year, "Recording bonuses and deductions")
    ensure_open_for_inputs(context, subject)
    if data.provincial and context.scheme.double_counting is None:
        raise Conflict(
            f"{context.scheme.document} has no rule counting the province's points double; "
            "record them as ordinary bonuses or deductions."
        )
    adjustment = Adjustment(
        subject_id=subject.id,
        component=data.component,
        points=data.points,
        provincial=data.provincial,
        reason=data.reason,
        recorded_by=principal.actor,
    )
    session.add(adjustment)
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="adjustment",
        entity_id=str(adjustment.id),
        jurisdiction=subject.jurisdiction,
        after={
            "subject": subject.code,
            "component": data.component,
            "points": points_text(data.points),
            "provincial": data.provincial,
            "reason": data.reason,
        },
    )
    return adjustment


async def record_circumstance(
    session: AsyncSession,
    *,
    context: YearContext,
    subject: Subject,
    data: CircumstanceCreate,
    principal: Principal,
) -> tuple[CircumstanceFinding, Circumstance]:
    """A downgrade or veto recorded against the catalogue, with its evidence."""
    roles.require_city_staff(principal, context.year, "Recording downgrade and veto circumstances")
    ensure_open_for_inputs(context, subject)
    catalogue, effect = circumstance_effect(context.scheme, data.circumstance)
    if data.evidence_files:
        found = set(
            await session.scalars(
                select(EvidenceFile.id).where(
                    EvidenceFile.id.in_(data.evidence_files), EvidenceFile.subject_id == subject.id
                )
            )
        )
        unknown = [str(item) for item in data.evidence_files if item not in found]
        if unknown:
            raise Conflict(f"No evidence files {', '.join(unknown)} of {subject.code}.")
    finding = CircumstanceFinding(
        subject_id=subject.id,
        circumstance=catalogue.id,
        effect=effect,
        evidence=data.evidence,
        evidence_files=[str(item) for item in data.evidence_files],
        recorded_by=principal.actor,
    )
    session.add(finding)
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="circumstance",
        entity_id=str(finding.id),
        jurisdiction=subject.jurisdiction,
        after={
            "subject": subject.code,
            "circumstance": catalogue.id,
            "effect": effect,
            "evidence": data.evidence,
        },
    )
    return finding, catalogue


async def record_incident(
    session: AsyncSession,
    *,
    scheme: Scheme,
    data: IncidentDeduction | IncidentCircumstance,
    principal: Principal,
    today: dt.date,
) -> tuple[Incident, bool]:
    """An incident and the year it counts against: its own, or the year before when that
    year's results were not yet published on the day (Panjin art. 9, Zhumadian art. 12)."""
    if not roles.is_city_staff_of(principal, scheme.city):
        raise Forbidden(
            f"Incidents of {scheme.scheme} are recorded by the appraisal office of {scheme.city}."
        )
    if data.subject == scheme.city or not registry().contains(scheme.city, data.subject):
        raise Conflict(f"{data.subject} is not a county, district or zone of {scheme.city}.")
    if data.occurred_on > today:
        raise Conflict(f"An incident on {data.occurred_on.isoformat()} has not happened yet.")
    if isinstance(data, IncidentCircumstance):
        circumstance_effect(scheme, data.circumstance)
    years = await repository.years_of_scheme(session, scheme.scheme)
    publications: Mapping[int, dt.date | None] = {row.year: row.published_on for row in years}
    attribution = attribute_incident(scheme, data.occurred_on, publications)
    incident = Incident(
        scheme=scheme.scheme,
        subject_code=data.subject,
        jurisdiction=data.subject,
        occurred_on=data.occurred_on,
        description=data.description,
        effect=data.effect,
        points=data.points if isinstance(data, IncidentDeduction) else None,
        circumstance=data.circumstance if isinstance(data, IncidentCircumstance) else None,
        counted_year=attribution.year,
        carried_back=attribution.carried_back,
        attribution=attribution.detail,
        citation=attribution.citation,
        recorded_by=principal.actor,
    )
    session.add(incident)
    await session.flush()
    counted = next((row for row in years if row.year == attribution.year), None)
    requires_reopening = False
    if counted is not None:
        subject = await repository.subject_by_code(session, counted.id, data.subject)
        requires_reopening = subject is not None and Stage(subject.stage) in AFTER_PUBLICATION
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="incident",
        entity_id=str(incident.id),
        jurisdiction=data.subject,
        after={
            "subject": data.subject,
            "occurred_on": data.occurred_on.isoformat(),
            "effect": data.effect,
            "counted_year": attribution.year,
            "carried_back": attribution.carried_back,
        },
    )
    return incident, requires_reopening


def incident_read(incident: Incident, requires_reopening: bool = False) -> IncidentRead:
    return IncidentRead(
        id=incident.id,
        scheme=incident.scheme,
        subject=incident.subject_code,
        occurred_on=incident.occurred_on,
        description=incident.description,
        effect=incident.effect,
        points=incident.points,
        circumstance=incident.circumstance,
        counted_year=incident.counted_year,
        carried_back=incident.carried_back,
        attribution=incident.attribution,
        citation=incident.citation,
        requires_reopening=requires_reopening,
        recorded_by=incident.recorded_by,
        recorded_at=incident.recorded_at,
    )


async def result_reads(
    session: AsyncSession,
    *,
    context: YearContext,
    subjects: Sequence[Subject],
    published_only: bool,
) -> list[ResultRead]:
    """The kept results of ``subjects`` with each one's list of problems; ``published_only``
    leaves out results not (or no longer) published."""
    if published_only:
        subjects = [s for s in subjects if Stage(s.stage) in AFTER_PUBLICATION]
    stored = await results_by_subject(session, [s.id for s in subjects])
    with_results = [s for s in subjects if s.id in stored]
    figures = await gather_figures(session, context, with_results) if with_results else {}
    reads = []
    for subject in with_results:
        row = stored[subject.id]
        reads.append(
            ResultRead(
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
                problems=figures[subject.id].problems,
                published=Stage(subject.stage) in AFTER_PUBLICATION,
                published_on=subject.published_on,
                computed_at=row.computed_at,
            )
        )
    reads.sort(key=lambda r: (r.rank is None, r.rank or 0, r.subject))
    return reads
