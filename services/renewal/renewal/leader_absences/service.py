"""Leaders recorded as away (tasks then go to the stand-in, 互补), set by the plan's administrators.

Functions take keyword arguments and never commit; writes go through the platform's write
path (``shared.writes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from renewal.access import is_plan_admin
from renewal.leader_absences import repository
from renewal.leader_absences.models import LeaderAbsence
from renewal.leader_absences.schemas import AbsenceCreate
from renewal.plans.pack import Plan
from shared.db import hold_lock
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.pagination import PageParams
from shared.writes import WriteContext


async def record_absence(*, write: WriteContext, plan: Plan, data: AbsenceCreate) -> LeaderAbsence:
    if not is_plan_admin(write.principal, plan):
        raise Forbidden(
            f"Leader absences of {plan.id} are recorded by its administrators ({plan.spec.jurisdiction})."
        )
    if plan.leaders is None or plan.leaders.leader(data.leader) is None:
        raise InvalidInput.field(
            "body.leader", f"{data.leader} is not a leader of this plan's division of work"
        )
    if data.away_to < data.away_from:
        raise InvalidInput.field("body.away_to", "must not be before away_from")
    # one record per leader and day: twins arriving together are decided one after the other
    await hold_lock(write.session, f"renewal.leader_absence:{plan.id}:{data.leader}")
    recorded = await repository.overlapping(
        write.session, plan_id=plan.id, leader=data.leader, away_from=data.away_from, away_to=data.away_to
    )
    if recorded is not None:
        raise Conflict(
            f"{data.leader} is already recorded as away from {recorded.away_from.isoformat()} to "
            f"{recorded.away_to.isoformat()}; record only days not yet covered."
        )
    absence = LeaderAbsence(
        plan_id=plan.id,
        leader=data.leader,
        away_from=data.away_from,
        away_to=data.away_to,
        reason=data.reason,
        created_by=write.principal.actor,
    )
    await write.add(absence)
    await write.record(
        action="create",
        entity="leader_absence",
        entity_id=absence.id,
        jurisdiction=plan.spec.jurisdiction,
        after={
            "leader": absence.leader,
            "away_from": absence.away_from.isoformat(),
            "away_to": absence.away_to.isoformat(),
            "reason": absence.reason,
        },
        event=None,
    )
    return absence


async def list_absences(
    *, session: AsyncSession, plan: Plan, page: PageParams
) -> tuple[Sequence[LeaderAbsence], int]:
    return await repository.of_plan(session, plan_id=plan.id, limit=page.limit, offset=page.offset)


async def leaders_away(*, session: AsyncSession, plan: Plan, on: dt.date) -> set[str]:
    return await repository.away_on(session, plan_id=plan.id, on=on)
