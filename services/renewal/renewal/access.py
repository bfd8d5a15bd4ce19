"""Who may call the renewal API, and on which plan.

- One alias per scope, shared by every router: ``Reader`` (renewal:read), ``Writer``
  (renewal:write), ``Admin`` (renewal:admin).
- A plan belongs to its city (``Plan.spec.jurisdiction``). Its readers are the city's staff
  and anyone above it, and the staff of its counties, districts and zones, who implement
  every task ("以下均需各县区政府、经济区管委会落实"). Anyone else does not find the plan (404,
  as the other services answer for records outside the caller's area).
- The plan's administrators hold renewal:admin for the plan's city (a county's admin reads
  the plan but does not set the city's duties).
- A unit belongs to its city's unit register: a user speaks for a unit when the account's
  unit names resolve in the plan's register and the account is registered in the place the
  unit sits: the city for a city department, the county for a county government. A
  Zhumadian account whose unit is named 市工业和信息化局 is not Panjin's 市工业和信息化局, and an
  account registered everywhere (``*``) or in a county does not speak for a city department
  by naming it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from renewal.plans.pack import Plan
from shared.auth import Principal, require_scope
from shared.jurisdictions import registry

READ_SCOPE = "renewal:read"
WRITE_SCOPE = "renewal:write"
ADMIN_SCOPE = "renewal:admin"

Reader = Annotated[Principal, Depends(require_scope(READ_SCOPE))]
Writer = Annotated[Principal, Depends(require_scope(WRITE_SCOPE))]
Admin = Annotated[Principal, Depends(require_scope(ADMIN_SCOPE))]


def sees_plan(principal: Principal, plan: Plan) -> bool:
    """The plan's city lies in the caller's subtree, or the caller works inside that city."""
    if principal.sees_everything:
        return True
    codes = registry()
    city = plan.spec.jurisdiction
    return any(
        own in codes and (codes.contains(own, city) or codes.contains(city, own))
        for own in principal.jurisdictions
    )


def is_plan_admin(principal: Principal, plan: Plan) -> bool:
    """renewal:admin for the plan's city (or above it)."""
    return principal.has_scope(ADMIN_SCOPE) and principal.can_access(plan.spec.jurisdiction)


def units_spoken_for(principal: Principal, plan: Plan) -> set[str]:
    """The canonical names of the plan's units the caller speaks for (see the module docstring)."""
    spoken: set[str] = set()
    for name in principal.units:
        canonical = plan.units.resolve(name)
        if canonical is None:
            continue
        entry = plan.units.entries[canonical]
        seat = entry.governs or plan.units.jurisdiction
        if seat in principal.jurisdictions:
            spoken.add(canonical)
    return spoken
