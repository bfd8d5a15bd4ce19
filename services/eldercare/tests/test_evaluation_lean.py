"""A month's snapshots evaluate without explanations (``evaluate(..., explain=False)``): what they
keep must be what the explained evaluation of the same person answers, for any person, day,
dibao standard and interpretation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from eldercare.catalogues.pack import load_catalogue
from eldercare.evaluations.entitlements import Evaluation, EvaluationContext, evaluate
from eldercare.evaluations.profile import (
    FamilyPlanningSpecial,
    LivingArrangement,
    PensionScheme,
    PersonProfile,
    Sex,
    Tekun,
    parse_profile,
)
from eldercare.evaluations.service import needs_dibao_standard
from eldercare.interpretations import EldercareInterpretations

CATALOGUE = load_catalogue(Path(__file__).resolve().parents[1] / "packs" / "411700-zhumadian.yaml")
FLAGS = [name for name, field in PersonProfile.model_fields.items() if field.annotation is bool]
"""The profile's yes/no facts (read from its schema, so a new one is drawn too)."""
ONE_OF: dict[str, Any] = {
    "sex": Sex,
    "pension_scheme": PensionScheme,
    "tekun": Tekun,
    "living_arrangement": LivingArrangement,
    "family_planning_special": FamilyPlanningSpecial,
}


@st.composite
def persons(draw: st.DrawFn) -> dict[str, Any]:
    facts: dict[str, Any] = {
        name: draw(st.none() | st.sampled_from(get_args(values))) for name, values in ONE_OF.items()
    }
    facts.update({name: draw(st.booleans()) for name in FLAGS})
    facts["usual_resident"] = draw(st.none() | st.booleans())
    facts["ability_level"] = draw(st.none() | st.integers(0, 4))
    facts["disability_grade"] = draw(st.none() | st.integers(1, 4))
    if facts["disability_grade"] is not None:
        facts["has_disability_certificate"] = True
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
