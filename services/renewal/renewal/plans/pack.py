"""Action plans as data: sections, numbered tasks, units with their aliases, indicators and
targets, and the division of work among leaders. Checked on load: numbering without
gaps, every unit known, every target with a deadline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.errors import PackError
from shared.jurisdictions import registry
from shared.packs import load_yaml, parse_pack

Line = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitEntry(Strict):
    name: Line
    aliases: list[Line] = []
    note: str | None = None


class UnitsFile(Strict):
    jurisdiction: str
    units: list[UnitEntry]


class LeaderEntry(Strict):
    name: Line
    title: Line
    supervises: list[Line] = Field(default=[], description="分管")
    assists: list[Line] = Field(default=[], description="协助分管")
    liaises: list[Line] = Field(default=[], description="联系")
    citation: Line


class LeadersFile(Strict):
    id: Line
    document: Line
    jurisdiction: str
    issued_on: dt.date
    leaders: list[LeaderEntry]
    stand_in_groups: list[list[Line]]
    coordinator: Line
    stand_in_citation: Line


class Target(Strict):
    deadline: dt.date
    value: Decimal
    kind: Literal["absolute", "cumulative", "relative"]


class Baseline(Strict):
    year: int
    value: Decimal | None = None


class Indicator(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    name: Line
    unit: Line
    direction: Literal["higher", "lower"]
    baseline: Baseline | None = None
    task: int | None = None
    targets: list[Target] = Field(min_length=1)
    citation: Line


class Section(Strict):
    code: Line
    title: Line
    parent: str | None = None


class Task(Strict):
    number: int
    section: Line
    text: Line
    lead_units: list[Line] = Field(min_length=1)
    cooperating_units: list[Line] = []
    note: str | None = None


class PlanFile(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    title: Line
    document: Line
    jurisdiction: str
    issued_on: dt.date | None = Field(description="None where the source prints no date")
    horizon: dt.date
    units_file: Line
    leaders_file: Line | None = None
    implementing_jurisdictions: list[str] = []
    implementing_citation: Line | None = None
    indicators: list[Indicator] = []
    sections: list[Section]
    tasks: list[Task]


@dataclass(frozen=True)
class Units:
    """Canonical names and every alias that resolves to them."""

    canonical: dict[str, str]

    def resolve(self, name: str) -> str | None:
        return self.canonical.get(name)


@dataclass(frozen=True)
class Plan:
    spec: PlanFile
    units: Units
    leaders: LeadersFile | None

    @property
    def id(self) -> str:
        return self.spec.id

    def task(self, number: int) -> Task | None:
        return next((t for t in self.spec.tasks if t.number == number), None)


def _units(path: Path) -> Units:
    units = parse_pack(path, UnitsFile)
    canonical: dict[str, str] = {}
    for index, unit in enumerate(units.units):
        for name in (unit.name, *unit.aliases):
            if name in canonical and canonical[name] != unit.name:
                raise PackError(path.name, f"units.{index}", f"{name} already names {canonical[name]}")
            canonical[name] = unit.name
    return Units(canonical)


def check_plan(plan: PlanFile, units: Units, leaders: LeadersFile | None, file: str) -> None:
    if plan.jurisdiction not in registry():
        raise PackError(file, "jurisdiction", f"unknown jurisdiction {plan.jurisdiction}")
    for index, code in enumerate(plan.implementing_jurisdictions):
        if code not in registry():
            raise PackError(file, f"implementing_jurisdictions.{index}", f"unknown jurisdiction {code}")
    numbers = [task.number for task in plan.tasks]
    expected = list(range(1, len(numbers) + 1))
    if numbers != expected:
        missing = sorted(set(expected) - set(numbers))
        where = next(i for i, (a, b) in enumerate(zip(numbers, expected, strict=False)) if a != b)
        raise PackError(
            file,
            f"tasks.{where}.number",
            f"tasks must be numbered 1, 2, 3 … without gaps; found {numbers[where]}, expected "
            f"{expected[where]}" + (f" (missing {missing})" if missing else ""),
        )
    sections = {section.code for section in plan.sections}
    for index, section in enumerate(plan.sections):
        if section.parent is not None and section.parent not in sections:
            raise PackError(file, f"sections.{index}.parent", f"unknown section {section.parent}")
    for index, task in enumerate(plan.tasks):
        if task.section not in sections:
            raise PackError(file, f"tasks.{index}.section", f"unknown section {task.section}")
        for role in ("lead_units", "cooperating_units"):
            for position, unit in enumerate(getattr(task, role)):
                if units.resolve(unit) is None:
                    raise PackError(file, f"tasks.{index}.{role}.{position}", f"unknown unit {unit}")
    for index, indicator in enumerate(plan.indicators):
        if indicator.task is not None and indicator.task not in numbers:
            raise PackError(file, f"indicators.{index}.task", f"no task {indicator.task}")
        if indicator.baseline is None and any(t.kind == "relative" for t in indicator.targets):
            raise PackError(file, f"indicators.{index}.baseline", "a relative target needs a baseline")
    if leaders is not None:
        for index, leader in enumerate(leaders.leaders):
            for role in ("supervises", "assists", "liaises"):
                for position, unit in enumerate(getattr(leader, role)):
                    if units.resolve(unit) is None:
                        raise PackError(
                            plan.leaders_file or file,
                            f"leaders.{index}.{role}.{position}",
                            f"unknown unit {unit}",
                        )


def load_plan(path: Path) -> Plan:
    raw = load_yaml(path)
    if isinstance(raw, dict):
        for index, indicator in enumerate(raw.get("indicators") or []):
            for position, target in enumerate(indicator.get("targets") or []):
                if isinstance(target, dict) and "deadline" not in target:
                    raise PackError(
                        path.name,
                        f"indicators.{index}.targets.{position}.deadline",
                        "every target needs a deadline",
                    )
    plan = parse_pack(path, PlanFile)
    units = _units(path.parent / plan.units_file)
    leaders = parse_pack(path.parent / plan.leaders_file, LeadersFile) if plan.leaders_file else None
    check_plan(plan, units, leaders, path.name)
    return Plan(plan, units, leaders)


def load_plans(packs_dir: Path) -> dict[str, Plan]:
    plans: dict[str, Plan] = {}
    for path in sorted(packs_dir.glob("*.yaml")):
        head = load_yaml(path)
        if not isinstance(head, dict) or "tasks" not in head:
            continue  # units, leaders and threshold files are read through the plans that name them
        plan = load_plan(path)
        if plan.id in plans:
            raise PackError(path.name, "id", f"plan {plan.id} is defined twice")
        plans[plan.id] = plan
    if not plans:
        raise PackError(str(packs_dir), "-", "no plan files")
    return plans
