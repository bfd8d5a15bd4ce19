"""Grading (评分定级): each subject's total, rank and grade under a city's scheme. Pure rules:
no database, no HTTP.

    total = base (≤ 100) + ad_hoc (≤ cap) + bonus total − deductions − m × provincial deduction
    bonus total = bonus (≤ 5) + m × provincial bonus, capped at 5 when the interpretation
        ``doubled_bonus_respects_cap`` holds (m = 2: Panjin art. 10, annex rows 5–6)

The total is rounded half up to one decimal place and subjects are ranked on that
published total, highest first; equal totals share a rank by the interpretation
``tie_rule`` (the sources have no tie rule; the spec chooses 1, 2, 2, 4). The grade comes
from the scheme's rank bands, one level lower for downgrade circumstances (never below the
floor, C) and D for a veto. Zones under a scheme that does not rank
them get no rank and no grade. Every rule applied is listed with its citation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from appraisal.grading.schemas import (
    GRADE_ORDER,
    AppliedRule,
    Grade,
    GradedSubject,
    GradingRequest,
    GradingResponse,
    GradingSubject,
    RuleName,
    round_total,
)
from appraisal.interpretations import AppraisalInterpretations, TieRule, stated
from appraisal.schemes.pack import Cap, Scheme
from shared.errors import InvalidInput

SPEC_INTERPRETATION = "appraisal spec (Interpretation)"


@dataclass(frozen=True)
class ScoredSubject:
    """A subject's rounded total, whether it takes part in the ranking, the rules so far."""

    subject: GradingSubject
    total: Decimal
    ranked: bool
    applied: tuple[AppliedRule, ...]


def grade_subjects(
    request: GradingRequest,
    schemes: Mapping[str, Scheme],
    interpretations: AppraisalInterpretations,
    *,
    location: str = "body",
    not_ranked: Mapping[str, AppliedRule] | None = None,
) -> GradingResponse:
    """Grade ``request.subjects`` under the scheme it names; results keep the input order.

    ``not_ranked`` names subjects of a kind the scheme does not rank (e.g. Zhumadian's member
    departments, art. 13) with the rule that says so: they get a total but no rank or grade.

    Raises InvalidInput (422) naming the field, e.g. ``body.scheme`` for an unknown scheme,
    ``body.subjects.0.ad_hoc`` for points beyond a cap, ``body.subjects.2.id`` for a
    duplicate id. ``location`` is the prefix of those field names.
    """
    scheme = schemes.get(request.scheme)
    if scheme is None:
        known = ", ".join(sorted(schemes)) or "none"
        raise InvalidInput.field(
            f"{location}.scheme", f"unknown scheme {request.scheme!r}; known schemes: {known}"
        )
    errors = check_subjects(request.subjects, scheme, location=location)
    if errors:
        detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:5])
        raise InvalidInput(detail, errors=errors)

    scored = [score_subject(subject, scheme, interpretations) for subject in request.subjects]
    if not_ranked:
        scored = [
            ScoredSubject(item.subject, item.total, False, (*item.applied, not_ranked[item.subject.id]))
            if item.ranked and item.subject.id in not_ranked
            else item
            for item in scored
        ]
    totals = [(item.subject.id, item.total) for item in scored if item.ranked]
    ranks = rank_by_total(totals, interpretations.tie_rule)
    ranked_count = len(ranks)
    results = []
    for item in scored:
        applied = list(item.applied)
        rank = ranks.get(item.subject.id)
        grade: Grade | None = None
        if rank is not None:
            applied.append(_ranking_rule(item, rank, ranked_count, totals, scheme, interpretations))
            grade = _grade(item.subject, rank, scheme, interpretations, applied)
        results.append(
            GradedSubject(id=item.subject.id, total=item.total, rank=rank, grade=grade, applied=applied)
        )
    return GradingResponse(results=results)


def check_subjects(
    subjects: Sequence[GradingSubject], scheme: Scheme, *, location: str = "body"
) -> list[dict[str, Any]]:
    """Field errors for points beyond the scheme's caps, duplicate ids, double counting the
    scheme does not know and more downgrade circumstances than it lists."""
    errors: list[dict[str, Any]] = []
    caps = scheme.score.caps
    seen: dict[str, int] = {}
    for index, subject in enumerate(subjects):
        where = f"{location}.subjects.{index}"
        if subject.id in seen:
            errors.append(
                {
                    "field": f"{where}.id",
                    "message": f"duplicate subject id {subject.id} (also subjects.{seen[subject.id]})",
                }
            )
        else:
            seen[subject.id] = index
        for name, cap in (
            ("base", caps.base),
            ("ad_hoc", caps.ad_hoc),
            ("bonus", caps.bonus),
            ("deductions", caps.deductions),
        ):
            value: Decimal = getattr(subject, name)
            if cap.max is not None and value > cap.max:
                errors.append(
                    {
                        "field": f"{where}.{name}",
                        "message": f"{value} exceeds the cap of {cap.max} ({cap.citation})",
                    }
                )
        if scheme.double_counting is None:
            for name in ("provincial_bonus", "provincial_deduction"):
                if getattr(subject, name) != 0:
                    errors.append(
                        {
                            "field": f"{where}.{name}",
                            "message": f"scheme {scheme.scheme} has no rule counting the "
                            f"province's points double ({scheme.document}); "
                            "enter them as bonus or deductions",
                        }
                    )
        listed = len(scheme.downgrade_circumstances)
        if subject.downgrades > listed:
            errors.append(
                {
                    "field": f"{where}.downgrades",
                    "message": f"{subject.downgrades} exceeds the {listed} downgrade "
                    f"circumstances listed in {scheme.grades.downgrade.citation}",
                }
            )
    return errors


def score_subject(
    subject: GradingSubject, scheme: Scheme, interpretations: AppraisalInterpretations
) -> ScoredSubject:
    """The subject's total (rounded to one decimal) and the scoring rules applied."""
    caps = scheme.score.caps
    applied = [
        _cap_rule("base_cap", "base", subject.base, caps.base),
        _cap_rule("ad_hoc_cap", "ad_hoc", subject.ad_hoc, caps.ad_hoc),
        _cap_rule("bonus_cap", "bonus", subject.bonus, caps.bonus),
    ]
    bonus_total = subject.bonus
    deductions = subject.deductions
    doubling = scheme.double_counting
    if doubling is not None and subject.provincial_bonus:
        doubled = doubling.multiplier * subject.provincial_bonus
        bonus_total += doubled
        applied.append(
            AppliedRule(
                rule="double_counting_bonus",
                detail=f"provincial bonus {subject.provincial_bonus} × {doubling.multiplier} "
                f"= {doubled}; bonus total {subject.bonus} + {doubled} = {bonus_total}",
                citation=doubling.citation,
            )
        )
        if (
            interpretations.doubled_bonus_respects_cap
            and caps.bonus.max is not None
            and bonus_total > caps.bonus.max
        ):
            applied.append(
                AppliedRule(
                    rule="bonus_total_cap",
                    detail=f"bonus total {bonus_total} capped at {caps.bonus.max} "
                    f"({stated('doubled_bonus_respects_cap', True)})",
                    citation=f"{caps.bonus.citation}; {SPEC_INTERPRETATION}",
                    interpretation="doubled_bonus_respects_cap",
                )
            )
            bonus_total = caps.bonus.max
    if doubling is not None and subject.provincial_deduction:
        doubled = doubling.multiplier * subject.provincial_deduction
        deductions += doubled
        applied.append(
            AppliedRule(
                rule="double_counting_deduction",
                detail=f"provincial deduction {subject.provincial_deduction} × "
                f"{doubling.multiplier} = {doubled}; deductions {subject.deductions} + "
                f"{doubled} = {deductions}",
                citation=doubling.citation,
            )
        )
    exact = subject.base + subject.ad_hoc + bonus_total - deductions
    total = round_total(exact)
    applied.insert(
        0,
        AppliedRule(
            rule="score",
            detail=f"total = base {subject.base} + ad_hoc {subject.ad_hoc} + bonus {bonus_total} "
            f"− deductions {deductions} = {exact}, rounded half up to {total}",
            citation=scheme.score.citation,
        ),
    )
    ranked = not (subject.zone and not scheme.zones.ranked)
    if not ranked:
        applied.append(
            AppliedRule(
                rule="zone_exclusion",
                detail="development zone: not ranked and not graded; only its list of problems is published",
                citation=scheme.zones.citation,
            )
        )
    return ScoredSubject(subject=subject, total=total, ranked=ranked, applied=tuple(applied))


def rank_by_total(totals: Sequence[tuple[str, Decimal]], tie_rule: TieRule) -> dict[str, int]:
    """Rank by total, highest first; equal totals share the rank and, under the ``competition``
    tie rule, leave a gap (1, 2, 2, 4); under ``dense`` they do not (1, 2, 2, 3)."""
    ordered = sorted((total for _, total in totals), reverse=True)
    first_position: dict[Decimal, int] = {}
    for position, total in enumerate(ordered, start=1):
        if tie_rule == "dense":
            position = len(first_position) + 1
        first_position.setdefault(total, position)
    return {subject_id: first_position[total] for subject_id, total in totals}


def _ranking_rule(
    item: ScoredSubject,
    rank: int,
    ranked_count: int,
    totals: Sequence[tuple[str, Decimal]],
    scheme: Scheme,
    interpretations: AppraisalInterpretations,
) -> AppliedRule:
    """The ranking, quoting the source; a tie names the tie rule (an interpretation) and its
    value, as the sources have none."""
    detail = f"rank {rank} of {ranked_count} by total, highest first"
    tied = sum(1 for subject_id, total in totals if total == item.total and subject_id != item.subject.id)
    if not tied:
        return AppliedRule(rule="ranking", detail=detail, citation=scheme.grades.ranking_citation)
    example = "1, 2, 2, 4" if interpretations.tie_rule == "competition" else "1, 2, 2, 3"
    return AppliedRule(
        rule="ranking",
        detail=f"{detail}; the total {item.total} is shared with {tied} other subject(s), which "
        f"share the rank ({stated('tie_rule', interpretations.tie_rule)}: {example})",
        citation=f"{scheme.grades.ranking_citation}; {SPEC_INTERPRETATION}",
        interpretation="tie_rule",
    )


def lower_grade(grade: Grade, levels: int, floor: Grade) -> Grade:
    """``grade`` lowered by ``levels``, never below ``floor`` (a grade already at or below the
    floor stays)."""
    position = GRADE_ORDER.index(grade)
    floor_position = GRADE_ORDER.index(floor)
    if position >= floor_position:
        return grade
    return GRADE_ORDER[min(position + levels, floor_position)]


def _grade(
    subject: GradingSubject,
    rank: int,
    scheme: Scheme,
    interpretations: AppraisalInterpretations,
    applied: list[AppliedRule],
) -> Grade:
    grades = scheme.grades
    band = grades.band_for(rank)
    span = f"{band.from_rank}–{band.to_rank}" if band.to_rank else f"≥ {band.from_rank}"
    if band.grade is not None:
        grade: Grade = band.grade
        applied.append(
            AppliedRule(
                rule="grade_band",
                detail=f"rank {rank} in ranks {span} → {grade}",
                citation=band.citation,
            )
        )
    else:
        assert band.interpretation is not None  # the loader requires one or the other
        grade = interpretations.band_grade(band.interpretation)
        applied.append(
            AppliedRule(
                rule="grade_band",
                detail=f"rank {rank} in ranks {span}, which the source does not grade → {grade} "
                f"({stated(band.interpretation, grade)})",
                citation=band.citation,
                interpretation=band.interpretation,
            )
        )

    if subject.downgrades and not subject.veto:
        rule = grades.downgrade
        one_level = interpretations.several_downgrades_one_level
        levels = 1 if one_level else subject.downgrades
        levels *= rule.steps
        lowered = lower_grade(grade, levels, rule.floor)
        several = subject.downgrades > 1
        applied.append(
            AppliedRule(
                rule="downgrade",
                detail=f"{subject.downgrades} downgrade circumstance(s): {grade} → {lowered}"
                + (f" ({stated('several_downgrades_one_level', one_level)})" if several else ""),
                citation=rule.citation + (f"; {SPEC_INTERPRETATION}" if several else ""),
                interpretation="several_downgrades_one_level" if several else None,
            )
        )
        if GRADE_ORDER.index(grade) + levels > GRADE_ORDER.index(lowered):
            applied.append(
                AppliedRule(
                    rule="downgrade_floor",
                    detail=f"never below {rule.floor}: stays {lowered}",
                    citation=rule.citation,
                )
            )
        grade = lowered

    if subject.veto:
        rule_veto = grades.veto
        applied.append(
            AppliedRule(
                rule="veto",
                detail=f"veto circumstance found: grade {rule_veto.grade} whatever the rank"
                + (" and the downgrades" if subject.downgrades else ""),
                citation=rule_veto.citation,
            )
        )
        grade = rule_veto.grade
    return grade


def _cap_rule(rule: RuleName, name: str, value: Decimal, cap: Cap) -> AppliedRule:
    limit = "no cap until the year's scheme sets one" if cap.max is None else f"≤ {cap.max}"
    return AppliedRule(rule=rule, detail=f"{name} {value} ({limit})", citation=cap.citation)
