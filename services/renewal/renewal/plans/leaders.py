"""Who answers for a task: the leader who supervises (分管) its lead unit, else the one who
liaises with it (联系); when that leader is away, a partner of the stand-in group (互补);
when the whole group is away, the coordinator (盘政办发〔2024〕3号 三).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from renewal.plans.pack import Plan, Task


@dataclass(frozen=True)
class ResponsibleLeader:
    name: str
    role: str  # supervises | liaises | stand_in | coordinator
    unit: str
    on_behalf_of: str | None
    citation: str


def leader_of_unit(plan: Plan, unit: str) -> tuple[str, str, str] | None:
    """(leader, role, citation) for the unit: supervising first, then liaising."""
    if plan.leaders is None:
        return None
    canonical = plan.units.resolve(unit)
    for role in ("supervises", "liaises"):
        for leader in plan.leaders.leaders:
            if any(plan.units.resolve(name) == canonical for name in getattr(leader, role)):
                return leader.name, role, leader.citation
    return None


def responsible_leader(plan: Plan, task: Task, away: Collection[str] = ()) -> ResponsibleLeader | None:
    for unit in task.lead_units:
        found = leader_of_unit(plan, unit)
        if found is None:
            continue
        name, role, citation = found
        canonical = plan.units.resolve(unit) or unit
        if name not in away:
            return ResponsibleLeader(name, role, canonical, None, citation)
        assert plan.leaders is not None
        group = next((g for g in plan.leaders.stand_in_groups if name in g), [])
        partner = next((other for other in group if other != name and other not in away), None)
        if partner is not None:
            return ResponsibleLeader(partner, "stand_in", canonical, name, plan.leaders.stand_in_citation)
        return ResponsibleLeader(
            plan.leaders.coordinator, "coordinator", canonical, name, plan.leaders.stand_in_citation
        )
    return None
