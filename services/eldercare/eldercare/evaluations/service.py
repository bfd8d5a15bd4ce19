"""Evaluating a person: the county's catalogue, the dibao standard from welfare, the engine."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.catalogues.pack import AmountRule, Catalogue
from eldercare.catalogues.service import CatalogueBook
from eldercare.evaluations.dibao import DibaoStandards
from eldercare.evaluations.engine import Evaluation, EvaluationContext, evaluate
from eldercare.evaluations.profile import PersonProfile, check_profile_on
from eldercare.interpretations import EldercareInterpretations
from shared.errors import InvalidInput, NotFound
from shared.months import YearMonth


def rule_uses_dibao_standard(rule: AmountRule) -> bool:
    if rule.dibao_multiple is not None:
        return True
    levels = rule.by_care_level
    return levels is not None and any(
        rule_uses_dibao_standard(getattr(levels, level)) for level in ("full", "semi", "self_care")
    )


def catalogue_uses_dibao_standard(catalogue: Catalogue) -> bool:
    return any(
        component.amount is not None and rule_uses_dibao_standard(component.amount)
        for item in catalogue.items.values()
        for component in item.components.values()
    )


def needs_dibao_standard(catalogue: Catalogue, evaluation: Evaluation) -> bool:
    """Whether an entitlement the person has is priced from the dibao standard (item 13)."""
    for entitlement in evaluation.entitlements:
        item = catalogue.items[entitlement.item]
        for part in entitlement.components:
            rule = item.components[part.key].amount
            if rule is not None and rule_uses_dibao_standard(rule):
                return True
    return False


async def evaluate_person(
    session: AsyncSession,
    *,
    book: CatalogueBook,
    standards: DibaoStandards,
    interpretations: EldercareInterpretations,
    jurisdiction: str,
    on: dt.date,
    profile: PersonProfile,
    authorization: str | None,
) -> Evaluation:
    """The person's entitlements for the month of ``on`` under their county's catalogue.

    The welfare service is asked for the dibao standard only when an entitlement needs it;
    when it cannot give one, that entitlement is degraded with the reason, never an error.
    """
    check_profile_on(profile, on, location="body.person")
    try:
        catalogue = (await book.effective(session, jurisdiction)).catalogue
    except NotFound as exc:
        raise InvalidInput.field("body.jurisdiction", exc.detail) from exc
    evaluation = evaluate(catalogue, profile, on, EvaluationContext(), interpretations)
    if not needs_dibao_standard(catalogue, evaluation):
        return evaluation
    lookup = await standards.standard(jurisdiction, YearMonth.of(on), authorization)
    context = EvaluationContext(dibao_standard=lookup.amount, dibao_unavailable_reason=lookup.reason)
    return evaluate(catalogue, profile, on, context, interpretations)
