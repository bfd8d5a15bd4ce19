"""Who answers for a task (责任领导), from the division of work (领导同志工作分工).

The responsible leader of a task is the leader who supervises (分管) its first lead unit,
else the one who liaises with it (联系), else the leader a documented assignment names.
When that leader is recorded as away, the first member of the leader's stand-in group (互补)
who is not away stands in; when all of the group are away, the coordinator does
(盘政办发〔2024〕3号: 互补领导均不在盘时，由刘占明同志负责协调).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from renewal.plans.pack import DivisionOfWork, Plan, Task, Units

UnitRole = Literal["supervises", "liaises", "assigned"]
Role = Literal["supervises", "liaises", "assigned", "stand_in", "coordinator"]
ROLE_WORDS: dict[str, str] = {"supervises": "分管", "liaises": "联系", "assigned": "is assigned"}


@dataclass(frozen=True)
class UnitLeader:
    """The leader a unit answers to, and on what ground."""

    name: str
    role: UnitRole
    citation: str


@dataclass(frozen=True)
class ResponsibleLeader:
    name: str
    role: Role
    unit: str  # canonical name of the lead unit the leader answers for
    on_behalf_of: str | None  # the away leader, for a stand-in or the coordinator
    citation: str
    reason: str


def leader_of_unit(division: DivisionOfWork, units: Units, unit: str) -> UnitLeader | None:
    """The leader who supervises ``unit``, else liaises with it, else is assigned to it."""
    for leader in division.leaders:
        if any(units.same(unit, name) for name in leader.supervises):
            return UnitLeader(leader.name, "supervises", leader.citation)
    for leader in division.leaders:
        if any(units.same(unit, name) for name in leader.liaises):
            return UnitLeader(leader.name, "liaises", leader.citation)
    for assignment in division.assignments:
        if units.same(unit, assignment.unit):
            return UnitLeader(assignment.leader, "assigned", f"{assignment.citation} ({assignment.reason})")
    return None


def stand_in_for(division: DivisionOfWork, leader: str, away: Collection[str]) -> tuple[str, Role, str]:
    """(name, role, reason) of who acts for ``leader`` while away: a stand-in, else the coordinator."""
    group = next((group for group in division.stand_in_groups if leader in group), None)
    if group is not None:
        partner = next((member for member in group if member != leader and member not in away), None)
        if partner is not None:
            return partner, "stand_in", f"{leader} is away; {partner} stands in (互补: {'、'.join(group)})"
        why = f"all of {'、'.join(group)} are away"
    else:
        why = f"{leader} is away and has no stand-in group"
    reason = f"{why}; {division.coordinator} coordinates"
    if division.coordinator in away:
        # the document names no one after the coordinator: say so rather than guess
        reason += f" ({division.coordinator} is recorded away too; the document names no one further)"
    return division.coordinator, "coordinator", reason


def responsible_leader(plan: Plan, task: Task, away: Collection[str] = ()) -> ResponsibleLeader | None:
    """The leader who answers for ``task`` while the leaders named in ``away`` are away.

    None only for a plan without a division of work: ``load_plans`` refuses a plan whose
    first lead unit has no leader.
    """
    division = plan.leaders
    if division is None:
        return None
    unit = task.lead_units[0]
    leader = leader_of_unit(division, plan.units, unit)
    if leader is None:
        return None
    canonical = plan.units.resolve(unit) or unit
    reason = f"{leader.name} {ROLE_WORDS[leader.role]} {unit}"
    if leader.name not in away:
        return ResponsibleLeader(leader.name, leader.role, canonical, None, leader.citation, reason)
    name, role, why = stand_in_for(division, leader.name, away)
    citation = division.stand_in_citation if role == "stand_in" else division.coordinator_citation
    return ResponsibleLeader(name, role, canonical, leader.name, citation, f"{reason}; {why}")
