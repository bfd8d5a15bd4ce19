"""A month's snapshots evaluate without explanations (``evaluate(..., explain=False)``): what they
keep must be what the explained evaluation of the same person answers, for any person, day,
dibao standard and interpretation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from eldercare.catalogues.pack import load_catalogue
from eldercare.evaluations.entitlements import Evaluation, EvaluationContext, evaluate
from eldercare.evaluations.profile import parse_profile
from eldercare.evaluations.service import needs_dibao_standard
from eldercare.interpretations import EldercareInterpretations

CATALOGUE = load_catalogue(Path(__file__).resolve().parents[1] / "packs" / "411700-zhumadian.yaml")
CHOICES: dict[str, list[Any]] = {
    "pension_scheme": [None, "employee", "resident"],
    "ability_level": [None, 0, 1, 2, 3, 4],
    "tekun": [None, "dispersed", "concentrated"],
    "living_arrangement": [None, "alone", "empty_nest", "left_behind", "with_family"],
    "family_planning_special": [None, "child_died", "child_disabled"],
    "disability_grade": [None, 1, 2, 3, 4],
    "sex": [None, "male", "female"],
    "usual_resident": [None, True, False],
}
FLAGS = [
    "pension_age_reached",
    "self_care_unable",
    "needs_long_term_care",
    "dibao",
    "low_income_edge",
    "expenditure_hardship",
    "relapsed_into_poverty",
    "at_risk_of_relapse",
    "still_in_hardship",
    "special_contribution_group",
    "has_able_supporter",
    "homeless",
]


@st.composite
def persons(draw: st.DrawFn) -> dict[str, Any]:
    facts: dict[str, Any] = {name: draw(st.sampled_from(values)) for name, values in CHOICES.items()}
    facts.update({name: draw(st.booleans()) for name in FLAGS})
    facts["has_disability_certificate"] = facts["disability_grade"] is not None or draw(st.booleans())
    facts["birth_date"] = draw(st.dates(dt.date(1915, 1, 1), dt.date(1966, 12, 31)))
    return {name: value for name, value in facts.items() if value is not None}


CONTEXTS = st.sampled_from(
    [
        EvaluationContext(),
        EvaluationContext(dibao_standard=Decimal("583.00")),
        EvaluationContext(dibao_standard=Decimal("800.00"), minimum_wage=Decimal("2000.00")),
        EvaluationContext(dibao_unavailable_reason="welfare did not answer"),
    ]
)
INTERPRETATIONS = st.builds(
    EldercareInterpretations,
    age_allowance_starts=st.sampled_from(["next_month", "birthday_month"]),
    longevity_band_overlap=st.sampled_from(["upper_band", "lower_band"]),
)


def kept(evaluation: Evaluation) -> tuple[Any, ...]:
    """What a month's snapshot keeps of an evaluation, and the components it reads to know
    whether the result depends on the dibao standard."""
    return (
        [(e.item, e.name, e.amount, e.period, e.degraded) for e in evaluation.entitlements],
        [[(c.key, c.amount, c.paid) for c in e.components] for e in evaluation.entitlements],
        evaluation.monthly_total,
        evaluation.monthly_total_complete,
        evaluation.degraded,
    )


@settings(max_examples=400, deadline=None)
@given(
    person=persons(),
    on=st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 1)),
    context=CONTEXTS,
    interpretations=INTERPRETATIONS,
)
def test_the_lean_evaluation_keeps_what_the_explained_one_answers(
    person: dict[str, Any], on: dt.date, context: EvaluationContext, interpretations: EldercareInterpretations
) -> None:
    profile = parse_profile(person)
    explained = evaluate(CATALOGUE, profile, on, context, interpretations)
    lean = evaluate(CATALOGUE, profile, on, context, interpretations, explain=False)
    assert kept(lean) == kept(explained)
    assert needs_dibao_standard(CATALOGUE, lean) == needs_dibao_standard(CATALOGUE, explained)
    assert lean.trace == ()
    assert all(e.admission is None for e in lean.entitlements)
