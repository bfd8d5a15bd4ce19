"""Whether a piece of equipment is due for scrapping or renewal (设备报废更新) under the plan:
the thresholds of ``equipment.thresholds`` applied to one described item. "N年以上" includes
N (以上 includes the number in Chinese legal usage): age ≥ N, the age in completed years
from ``in_service_since`` to ``on``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from renewal.equipment.thresholds import FACT_NAMES, AgeRule, EmissionRule, Thresholds
from renewal.interpretations import RenewalInterpretations, applied
from shared.errors import InvalidInput
from shared.months import completed_years

EMISSION_NAMES = {1: "国一", 2: "国二", 3: "国三", 4: "国四", 5: "国五", 6: "国六"}
DEFAULT_INTERPRETATIONS = RenewalInterpretations()


@dataclass(frozen=True)
class ConditionCheck:
    """One condition of the rule: whether it held, whether the caller gave it, whether it was assumed."""

    condition: str
    text: str
    held: bool | None
    given: bool
    assumed: bool


def assess(
    *,
    thresholds: Thresholds,
    kind: str,
    in_service_since: dt.date | None,
    on: dt.date,
    emission_standard: int | None,
    facts: Mapping[str, bool | None] | None = None,
    interpretations: RenewalInterpretations = DEFAULT_INTERPRETATIONS,
) -> dict[str, object]:
    """``{"renew": bool, "task": int, "reason": "…", "conditions": […], …}`` for one item of equipment.

    ``facts``: what the caller says of the machine (技术状况差, 维修成本高), None where unknown.
    A condition given as false makes the machine not due; one not given is assumed to hold
    or not as ``interpretations.farm_machinery_age_alone_suffices`` says, and the answer
    names the interpretation. ``InvalidInput`` for an unknown kind (listing the known ones),
    for a missing or impossible value the kind's rule needs, or for a fact the kind's rule
    does not ask about (naming the field).
    """
    facts = facts or {}
    rule = thresholds.equipment.get(kind)
    if rule is None:
        known = ", ".join(thresholds.equipment)
        raise InvalidInput.field("body.kind", f"unknown kind {kind!r}; known kinds: {known}")
    asked = {c.fact for c in rule.also_requires} if isinstance(rule, AgeRule) else set()
    for fact, value in facts.items():
        if value is not None and fact not in asked:
            raise InvalidInput.field(
                f"body.{fact}", f"task {rule.task} sets no condition {FACT_NAMES[fact]} for {rule.name}"
            )
    answer: dict[str, object] = {
        "kind": kind,
        "name": rule.name,
        "task": rule.task,
        "plan": thresholds.plan,
        "citation": rule.citation,
        "interpretations": [],
    }
    if isinstance(rule, AgeRule):
        return answer | _assess_age(rule, kind, in_service_since, on, facts, interpretations)
    if isinstance(rule, EmissionRule):
        if emission_standard is None:
            raise InvalidInput.field(
                "body.emission_standard", f"needed to assess a {kind}: 1–6 for 国一…国六"
            )
        if emission_standard not in EMISSION_NAMES:
            raise InvalidInput.field("body.emission_standard", "must be 1–6 for 国一…国六")
        limit = EMISSION_NAMES[rule.max_emission_standard]
        renew = emission_standard <= rule.max_emission_standard
        return answer | {
            "renew": renew,
            "reason": f"{rule.name} of emission standard {EMISSION_NAMES[emission_standard]}; "
            f"task {rule.task}: {rule.action} those of {limit} or below ({limit}及以下)",
            "conditions": [ConditionCheck("emission_standard", f"{limit}及以下", renew, True, False)],
        }
    return answer | {
        "renew": True,
        "reason": f"task {rule.task}: {rule.action} every {rule.name} (全部)",
        "conditions": [ConditionCheck("kind", "全部", True, True, False)],
    }


def _assess_age(
    rule: AgeRule,
    kind: str,
    in_service_since: dt.date | None,
    on: dt.date,
    facts: Mapping[str, bool | None],
    interpretations: RenewalInterpretations,
) -> dict[str, object]:
    age = _age(kind, in_service_since, on)
    old_enough = age >= rule.min_age_years
    threshold = f"{rule.min_age_years}年以上"
    checks = [ConditionCheck("age", threshold, old_enough, True, False)]
    assume = interpretations.farm_machinery_age_alone_suffices
    for condition in rule.also_requires:
        value = facts.get(condition.fact)
        if value is None:
            checks.append(
                ConditionCheck(condition.fact, condition.text, True if assume else None, False, assume)
            )
        else:
            checks.append(ConditionCheck(condition.fact, condition.text, value, True, False))
    reason = (
        f"{rule.name} in service {age} full years; task {rule.task}: {rule.action} those of "
        f"{rule.min_age_years} years or more ({threshold})"
    )
    if rule.also_requires:
        reason += " that are also " + "、".join(c.text for c in rule.also_requires)
    if not old_enough:
        reason += f"; not yet, due at {rule.min_age_years} years"
    refused = [c.text for c in checks[1:] if c.given and c.held is False]
    assumed = [c.text for c in checks[1:] if c.assumed]
    unknown = [c.text for c in checks[1:] if not c.given and not c.assumed]
    if refused:
        reason += f"; given as not {'、'.join(refused)}, so not due"
    if assumed:
        reason += (
            f"; {'、'.join(assumed)} not given: assumed to hold, the age alone sufficing "
            "(farm_machinery_age_alone_suffices=true)"
        )
    if unknown:
        reason += (
            f"; {'、'.join(unknown)} not given, and the age alone does not suffice "
            "(farm_machinery_age_alone_suffices=false), so not due"
        )
    applied_here = applied(interpretations, "farm_machinery_age_alone_suffices") if assumed or unknown else []
    return {
        "renew": all(check.held is True for check in checks),
        "age_years": age,
        "reason": reason,
        "conditions": checks,
        "interpretations": applied_here,
    }


def _age(kind: str, in_service_since: dt.date | None, on: dt.date) -> int:
    if in_service_since is None:
        raise InvalidInput.field(
            "body.in_service_since", f"needed to assess a {kind}: the day it entered service"
        )
    if in_service_since > on:
        raise InvalidInput.field(
            "body.in_service_since", f"{in_service_since} is after the day asked about ({on})"
        )
    return completed_years(in_service_since, on)
