"""Who may call the renewal API, and on which plan.

One alias per scope, shared by every router: ``Reader`` (renewal:read), ``Writer``
(renewal:write), ``Admin`` (renewal:admin); and the checks every router applies to a plan:
whether the caller sees it, administers it, and which of its units the caller speaks for.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from renewal.plans.pack import Plan
from shared.auth import Principal, require_scope

READ_SCOPE = "renewal:read"
WRITE_SCOPE = "renewal:write"
ADMIN_SCOPE = "renewal:admin"

Reader = Annotated[Principal, Depends(require_scope(READ_SCOPE))]
Writer = Annotated[Principal, Depends(require_scope(WRITE_SCOPE))]
Admin = Annotated[Principal, Depends(require_scope(ADMIN_SCOPE))]


def sees_plan(principal: Principal, plan: Plan) -> bool:
    """Every reader sees every plan."""
    return True


def is_plan_admin(principal: Principal, plan: Plan) -> bool:
    return principal.has_scope(ADMIN_SCOPE)


def units_spoken_for(principal: Principal, plan: Plan) -> set[str]:
    """The canonical names of the plan's units the caller's unit names resolve to."""
    return {canonical for name in principal.units if (canonical := plan.units.resolve(name))}
