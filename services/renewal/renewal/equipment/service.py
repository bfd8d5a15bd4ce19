"""Whether a piece of equipment is due for scrapping or renewal (设备报废更新) under the plan:
the thresholds of ``equipment.thresholds`` applied to one described item. "N年以上" includes
N (以上 includes the number in Chinese legal usage): age ≥ N, the age in completed years
from ``in_service_since`` to ``on``.
"""

from __future__ import annotations

import datetime as dt

from renewal.equipment.thresholds import AgeRule, EmissionRule, Thresholds
from shared.errors import InvalidInput
from shared.months import completed_years

EMISSION_NAMES = {1: "国一", 2: "国二", 3: "国三", 4: "国四", 5: "国五", 6: "国六"}


def assess(
    *,
    thresholds: Thresholds,
    kind: str,
    in_service_since: dt.date | None,
    on: dt.date,
    emission_standard: int | None,
) -> dict[str, object]:
    """``{"renew": bool, "task": int, "reason": "…", …}`` for one item of equipment.

    ``InvalidInput`` for an unknown kind (listing the known ones) or for a missing or
    impossible value the kind's rule needs (naming the field).
    """
    rule = thresholds.equipment.get(kind)
    if rule is None:
        known = ", ".join(thresholds.equipment)
        raise InvalidInput.field("body.kind", f"unknown kind {kind!r}; known kinds: {known}")
    answer: dict[str, object] = {
        "kind": kind,
        "name": rule.name,
        "task": rule.task,
        "plan": thresholds.plan,
        "citation": rule.citation,
    }
    if isinstance(rule, AgeRule):
        age = _age(kind, in_service_since, on)
        renew = age >= rule.min_age_years
        reason = (
            f"{rule.name} in service {age} full years; task {rule.task}: {rule.action} those of "
            f"{rule.min_age_years} years or more ({rule.min_age_years}年以上)"
        )
        if not renew:
            reason += f"; not yet, due at {rule.min_age_years} years"
        return answer | {"renew": renew, "age_years": age, "reason": reason}
    if isinstance(rule, EmissionRule):
        if emission_standard is None:
            raise InvalidInput.field(
                "body.emission_standard", f"needed to assess a {kind}: 1–6 for 国一…国六"
            )
        if emission_standard not in EMISSION_NAMES:
            raise InvalidInput.field("body.emission_standard", "must be 1–6 for 国一…国六")
        limit = EMISSION_NAMES[rule.max_emission_standard]
        return answer | {
            "renew": emission_standard <= rule.max_emission_standard,
            "reason": f"{rule.name} of emission standard {EMISSION_NAMES[emission_standard]}; "
            f"task {rule.task}: {rule.action} those of {limit} or below ({limit}及以下)",
        }
    return answer | {"renew": True, "reason": f"task {rule.task}: {rule.action} every {rule.name} (全部)"}


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
