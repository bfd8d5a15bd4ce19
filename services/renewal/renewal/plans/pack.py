"""Action plans (行动方案) as data: sections, numbered tasks with their units (and the parts of
a task it gives to one unit each), indicators and targets, goals and dated milestones, the
plan's own reporting cadence, the rewards it promises and the scheme by which it assesses its
counties; unit registers (one canonical name per unit and the aliases the documents use); the
division of work among leaders (领导同志工作分工).

Every YAML file in the packs folder says what it holds (``kind: plan | units |
division_of_work | equipment_thresholds``). ``load_plans`` reads them all and checks them:
tasks numbered without gaps, every unit known, every target with a deadline (or null with a
note where the source states none), directions and
kinds from their closed lists, no unknown field names, a leader for every task when the plan
has a division of work. A broken file fails with a ``PackError`` naming the file, the field
and the problem.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from shared.errors import PackError
from shared.jurisdictions import registry
from shared.packs import load_yaml

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)]
FileName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*\.yaml$", max_length=100)]
FILE_KINDS = ("plan", "units", "division_of_work", "equipment_thresholds")

ModelT = TypeVar("ModelT", bound=BaseModel)


class Strict(BaseModel):
    """Unknown field names are refused: a misspelt key must not silently drop data."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- units


class UnitEntry(Strict):
    name: Text = Field(description="the canonical name")
    aliases: list[Text] = Field(default=[], description="other names the documents write for the unit")
    governs: str | None = Field(
        default=None, description="the jurisdiction of a county/district government or zone"
    )
    note: Text | None = None
    named_in: list[Text] = Field(min_length=1, description="where the documents name the unit")


class UnitRegisterEntry(Strict):
    jurisdiction: str
    units: list[UnitEntry] = Field(min_length=1)


class UnitsFile(Strict):
    kind: Literal["units"]
    registers: list[UnitRegisterEntry] = Field(min_length=1)


# ---------------------------------------------------------------- division of work


class LeaderEntry(Strict):
    name: Text
    title: Text
    responsible_for: Text | None = Field(default=None, description="负责……方面工作")
    supervises: list[Text] = Field(default=[], description="分管")
    assists: list[Text] = Field(default=[], description="协助分管")
    liaises: list[Text] = Field(default=[], description="联系")
    other_duties: list[Text] = []
    citation: Text


class Assignment(Strict):
    """A lead unit the division of work does not name, with the leader who answers for it and why."""

    unit: Text
    leader: Text
    reason: Text
    citation: Text


class DivisionOfWork(Strict):
    kind: Literal["division_of_work"]
    id: Slug
    title: Text
    document: Text
    jurisdiction: str
    issued_on: dt.date
    units_file: FileName
    leaders: list[LeaderEntry] = Field(min_length=1)
    stand_in_groups: list[list[Text]] = Field(default=[], description="互补 groups, in the document's order")
    stand_in_citation: Text
    coordinator: Text = Field(description="coordinates when all of a stand-in group are away")
    coordinator_citation: Text
    assignments: list[Assignment] = []

    def leader(self, name: str) -> LeaderEntry | None:
        return next((leader for leader in self.leaders if leader.name == name), None)


# ---------------------------------------------------------------- plans


class Baseline(Strict):
    year: int = Field(ge=1900, le=2199)
    value: Decimal | None = Field(default=None, description="None until the value is recorded")
    citation: Text | None = None


class Target(Strict):
    deadline: dt.date | None = Field(
        description="the day it is due by; null where the source states no date (say so in note)"
    )
    value: Decimal
    kind: Literal["absolute", "cumulative", "relative"] = Field(
        description="relative: a percentage change against the baseline value (25 means +25%)"
    )
    strict: bool = Field(
        default=False, description="超过 (more than): reaching the value itself is not enough"
    )
    note: Text | None = None


class Indicator(Strict):
    id: Slug
    name: Text
    unit: Text = Field(description="unit of measure")
    direction: Literal["higher", "lower"] = Field(description="which way is better")
    baseline: Baseline | None = None
    task: int | None = Field(default=None, description="the task that states it; None for plan-wide targets")
    table_row: int | None = Field(default=None, description="序号 in the plan's table of targets")
    targets: list[Target] = Field(min_length=1)
    citation: Text
    note: Text | None = None


class Section(Strict):
    code: Text = Field(description="二 or 二(一)")
    title: Text
    parent: Text | None = None


class Aspect(Strict):
    """A part of a task the task itself gives to one unit (分工), e.g. 盘政发〔2024〕4号 二（一）8:
    严格落实能耗（市发展改革委）、排放（市生态环境局）…"""

    key: Slug = Field(description="an English key: energy-consumption, emissions …")
    aspect: Text = Field(description="the part, as the task writes it (能耗, 排放, 安全, 设备淘汰目录)")
    unit: Text = Field(description="the unit the task names for it, as written")
    citation: Text


class Task(Strict):
    number: int = Field(ge=1, description="through the whole plan, 1…N")
    numbered_as: int | None = Field(
        default=None, ge=1, description="the printed number, when the plan restarts numbering in each section"
    )
    section: Text
    citation: Text
    text: Text
    lead_units: list[Text] = Field(
        min_length=1, description="牵头单位 (or 责任单位), as the plan writes them"
    )
    cooperating_units: list[Text] = Field(default=[], description="配合单位, as the plan writes them")
    aspects: list[Aspect] = Field(default=[], description="parts of the task the task gives to one unit each")
    note: Text | None = None

    @property
    def all_units(self) -> list[str]:
        return [*self.lead_units, *self.cooperating_units]


class Statement(Strict):
    text: Text
    detail: Text | None = None
    citation: Text


class Milestone(Strict):
    """A dated goal of the plan in words (到2025年…), without a measured value."""

    deadline: dt.date
    text: Text
    citation: Text


class Reward(Strict):
    """A reward the plan promises (奖补): a one-off amount, or a share matching other funds."""

    id: Slug
    recognition: Text = Field(description="what earns it, as the plan writes it")
    level: Literal["national", "provincial"] = Field(description="who grants the recognition (国家, 省)")
    kind: Literal["one_off", "matching"] = Field(
        description="一次性奖励, or 配套支持 as a share of other funds"
    )
    amount: Decimal | None = Field(default=None, description="yuan, for a one-off reward")
    matching_share: Decimal | None = Field(default=None, description="0.5 for 50%, for a matching reward")
    matched_funds: Text | None = Field(default=None, description="the funds matched (省财政奖补资金)")
    condition: Text | None = Field(default=None, description="when it is paid, as the plan writes it")
    text: Text = Field(description="the plan's sentence")
    citation: Text
    note: Text | None = None


class PlanDuty(Strict):
    """A reporting duty the plan sets itself (its cadence, e.g. 月通报、季调度), on its tasks' units."""

    id: Slug
    name: Text = Field(description="the plan's word for it (月通报, 季调度)")
    cadence: Literal["monthly", "quarterly"]
    tasks: Literal["all", "with_table_indicators"] = Field(
        description="every task, or the tasks that carry an indicator of the plan's table of key targets"
    )
    text: Text = Field(description="the plan's sentence")
    citation: Text
    note: Text | None = None


class AssessmentItem(Strict):
    number: int = Field(ge=1, description="the item's number in the annex")
    content: Text = Field(description="考核内容, as the annex writes it")
    related_indicators: list[Slug] = Field(
        default=[], description="the plan's indicators the item names (a cross-reference of this service)"
    )


class AssessmentCategory(Strict):
    category: Text = Field(description="类别, as the annex writes it")
    items: list[AssessmentItem] = Field(min_length=1)


class CountyAssessment(Strict):
    """The plan's scheme for assessing its counties (考核指标), as its annex states it."""

    title: Text
    citation: Text
    subjects: list[str] = Field(min_length=1, description="the jurisdictions assessed")
    subjects_text: Text = Field(description="the annex's sentence naming them")
    held: Statement = Field(description="when and how the assessment is held")
    scoring: Text = Field(
        description="what the annex says about points, weights or grades, or that it says nothing"
    )
    categories: list[AssessmentCategory] = Field(min_length=1)


class PlanFile(Strict):
    kind: Literal["plan"]
    id: Slug
    title: Text
    document: Text
    jurisdiction: str
    issued_on: dt.date | None = Field(
        description="None where the source prints no date (say why in issued_on_note)"
    )
    issued_on_note: Text | None = None
    horizon: dt.date
    units_file: FileName
    leaders_file: FileName | None = None
    unit_roles: Literal["lead_and_cooperating", "responsible"] = Field(
        description=(
            "lead_and_cooperating: the plan names 牵头单位 and 配合单位; responsible: it names 责任单位 "
            "without telling lead from cooperating units, recorded as lead units in its order"
        )
    )
    numbering: Literal["continuous", "per_section"]
    implementing_jurisdictions: list[str] = []
    implementing_citation: Text | None = None
    overall_goal: Statement | None = None
    milestones: list[Milestone] = []
    review_cadence: Statement | None = None
    reporting_duties: list[PlanDuty] = []
    rewards: list[Reward] = []
    county_assessment: CountyAssessment | None = None
    indicators: list[Indicator] = []
    sections: list[Section] = Field(min_length=1)
    tasks: list[Task] = Field(min_length=1)


# ---------------------------------------------------------------- loaded objects


def unit_key(name: str) -> str:
    """Names compare without spaces and with full-width parentheses (the documents mix both)."""
    return re.sub(r"\s+", "", name).replace("(", "（").replace(")", "）")


@dataclass(frozen=True)
class Units:
    """One city's unit register: canonical names and every alias that resolves to them."""

    jurisdiction: str
    entries: Mapping[str, UnitEntry]
    by_key: Mapping[str, str]

    def resolve(self, name: str) -> str | None:
        """The canonical name of ``name`` (itself or an alias), or None when unknown."""
        return self.by_key.get(unit_key(name))

    def same(self, first: str, second: str) -> bool:
        canonical = self.resolve(first)
        return canonical is not None and canonical == self.resolve(second)


@dataclass(frozen=True)
class Plan:
    spec: PlanFile
    units: Units
    leaders: DivisionOfWork | None
    file: str

    @property
    def id(self) -> str:
        return self.spec.id

    def task(self, number: int) -> Task | None:
        return next((task for task in self.spec.tasks if task.number == number), None)

    def indicators_of(self, number: int | None) -> list[Indicator]:
        """The task's indicators; ``None`` gives the plan-wide ones."""
        return [indicator for indicator in self.spec.indicators if indicator.task == number]

    def units_of(self, task: Task, *, lead_only: bool = False) -> set[str]:
        """Canonical names of the task's lead units (and cooperating units unless ``lead_only``)."""
        names = task.lead_units if lead_only else task.all_units
        return {self.units.resolve(name) or name for name in names}


@dataclass(frozen=True, eq=False)
class PlanPack(Mapping[str, Plan]):
    """Every plan by id, with the unit registers (by jurisdiction) and divisions of work (by id)."""

    plans: Mapping[str, Plan]
    units: Mapping[str, Units]
    divisions: Mapping[str, DivisionOfWork]

    def __getitem__(self, plan_id: str) -> Plan:
        return self.plans[plan_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.plans)

    def __len__(self) -> int:
        return len(self.plans)


# ---------------------------------------------------------------- loading


def load_plans(packs_dir: Path) -> PlanPack:
    """Read and check every pack file in ``packs_dir``; a ``PackError`` on the first problem."""
    files: dict[str, list[tuple[Path, dict[str, Any]]]] = defaultdict(list)
    for path in sorted(packs_dir.glob("*.yaml")):
        data = load_yaml(path)
        if not isinstance(data, dict):
            _fail(path.name, "-", "the file must hold a mapping (key: value lines)")
        kind = data.get("kind")
        if kind not in FILE_KINDS:
            _fail(path.name, "kind", f"unknown file kind {kind!r}; expected one of {', '.join(FILE_KINDS)}")
        files[kind].append((path, data))
    registers = {path.name: _load_units(path, data) for path, data in files["units"]}
    units: dict[str, Units] = {}
    for file, by_jurisdiction in registers.items():
        for code, register in by_jurisdiction.items():
            if code in units:
                _fail(file, "registers", f"a second unit register for {code}")
            units[code] = register
    divisions: dict[str, DivisionOfWork] = {}  # by file name, as plans name them
    for path, data in files["division_of_work"]:
        division = _load_division(path, data, registers)
        if any(other.id == division.id for other in divisions.values()):
            _fail(path.name, "id", f"division of work {division.id} is defined twice")
        divisions[path.name] = division
    plans: dict[str, Plan] = {}
    for path, data in files["plan"]:
        spec = _validate(path, PlanFile, data)
        if spec.id in plans:
            _fail(path.name, "id", f"plan {spec.id} is also defined in {plans[spec.id].file}")
        plans[spec.id] = _check_plan(spec, path.name, registers, divisions)
    if not plans:
        _fail(str(packs_dir), "-", "no plan files (kind: plan)")
    return PlanPack(plans=plans, units=units, divisions={d.id: d for d in divisions.values()})


def _fail(file: str, field: str, problem: str) -> NoReturn:
    raise PackError(file, field, problem)


def _validate(path: Path, model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key shows as an unknown field and a missing one: name the misspelling
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        field = ".".join(str(part) for part in first["loc"]) or "-"
        raise PackError(path.name, field, _problem(first)) from exc


def _problem(error: ErrorDetails) -> str:
    name = str(error["loc"][-1]) if error["loc"] else "-"
    if error["type"] == "missing":
        if name == "deadline":
            return "every target needs a deadline; 'deadline' is missing"
        return f"required field {name!r} is missing"
    if error["type"] == "extra_forbidden":
        return f"unknown field {name!r} (misspelt, or not part of this kind of file)"
    return str(error["msg"])


def _below(city: str, code: str) -> bool:
    return code != city and registry().contains(city, code)


def _load_units(path: Path, data: dict[str, Any]) -> dict[str, Units]:
    spec = _validate(path, UnitsFile, data)
    registers: dict[str, Units] = {}
    for r_index, register in enumerate(spec.registers):
        where = f"registers.{r_index}"
        if register.jurisdiction not in registry():
            _fail(path.name, f"{where}.jurisdiction", f"unknown jurisdiction {register.jurisdiction}")
        if register.jurisdiction in registers:
            _fail(path.name, f"{where}.jurisdiction", f"a second unit register for {register.jurisdiction}")
        entries: dict[str, UnitEntry] = {}
        by_key: dict[str, str] = {}
        for u_index, unit in enumerate(register.units):
            if unit.governs is not None and not _below(register.jurisdiction, unit.governs):
                _fail(
                    path.name,
                    f"{where}.units.{u_index}.governs",
                    f"{unit.governs} is not a county, district or zone of {register.jurisdiction}",
                )
            for a_index, name in enumerate((unit.name, *unit.aliases)):
                taken = by_key.get(unit_key(name))
                if taken is not None:
                    field = "name" if a_index == 0 else f"aliases.{a_index - 1}"
                    _fail(path.name, f"{where}.units.{u_index}.{field}", f"{name} already names {taken}")
                by_key[unit_key(name)] = unit.name
            entries[unit.name] = unit
        registers[register.jurisdiction] = Units(register.jurisdiction, entries, by_key)
    return registers


def _register(
    file: str, units_file: str, jurisdiction: str, registers: Mapping[str, Mapping[str, Units]]
) -> Units:
    by_jurisdiction = registers.get(units_file)
    if by_jurisdiction is None:
        _fail(file, "units_file", f"{units_file} is not a units file (kind: units) in the packs folder")
    register = by_jurisdiction.get(jurisdiction)
    if register is None:
        _fail(file, "units_file", f"{units_file} has no unit register for {jurisdiction}")
    return register


def _load_division(
    path: Path, data: dict[str, Any], registers: Mapping[str, Mapping[str, Units]]
) -> DivisionOfWork:
    spec = _validate(path, DivisionOfWork, data)
    file = path.name
    units = _register(file, spec.units_file, spec.jurisdiction, registers)
    names = [leader.name for leader in spec.leaders]
    for index, name in enumerate(names):
        if name in names[:index]:
            _fail(file, f"leaders.{index}.name", f"{name} is listed twice")
    for role in ("supervises", "assists", "liaises"):
        holder: dict[str, str] = {}
        for index, leader in enumerate(spec.leaders):
            for position, unit in enumerate(getattr(leader, role)):
                canonical = units.resolve(unit)
                if canonical is None:
                    _fail(file, f"leaders.{index}.{role}.{position}", f"unknown unit {unit}")
                # one leader supervises (or liaises with) a unit, else "the responsible leader" is ambiguous
                if role != "assists" and holder.setdefault(canonical, leader.name) != leader.name:
                    _fail(
                        file,
                        f"leaders.{index}.{role}.{position}",
                        f"{unit} is already under {holder[canonical]} ({role})",
                    )
    grouped: set[str] = set()
    for g_index, group in enumerate(spec.stand_in_groups):
        if len(group) < 2:
            _fail(file, f"stand_in_groups.{g_index}", "a stand-in group needs at least two leaders")
        for m_index, member in enumerate(group):
            if member not in names:
                _fail(file, f"stand_in_groups.{g_index}.{m_index}", f"{member} is not a listed leader")
            if member in grouped:
                _fail(file, f"stand_in_groups.{g_index}.{m_index}", f"{member} is in two stand-in groups")
            grouped.add(member)
    if spec.coordinator not in names:
        _fail(file, "coordinator", f"{spec.coordinator} is not a listed leader")
    for index, assignment in enumerate(spec.assignments):
        if units.resolve(assignment.unit) is None:
            _fail(file, f"assignments.{index}.unit", f"unknown unit {assignment.unit}")
        if assignment.leader not in names:
            _fail(file, f"assignments.{index}.leader", f"{assignment.leader} is not a listed leader")
        named_by = [
            leader.name
            for leader in spec.leaders
            if any(units.same(unit, assignment.unit) for unit in (*leader.supervises, *leader.liaises))
        ]
        if named_by:
            _fail(
                file,
                f"assignments.{index}.unit",
                f"{assignment.unit} already has a leader in the document ({named_by[0]})",
            )
    return spec


def _check_plan(
    plan: PlanFile,
    file: str,
    registers: Mapping[str, Mapping[str, Units]],
    divisions: Mapping[str, DivisionOfWork],
) -> Plan:
    if plan.jurisdiction not in registry():
        _fail(file, "jurisdiction", f"unknown jurisdiction {plan.jurisdiction}")
    units = _register(file, plan.units_file, plan.jurisdiction, registers)
    if plan.issued_on is None and plan.issued_on_note is None:
        _fail(file, "issued_on", "no issue date: say why in issued_on_note")
    if plan.issued_on is not None and plan.horizon < plan.issued_on:
        _fail(file, "horizon", f"the horizon {plan.horizon} is before the issue date {plan.issued_on}")
    _check_implementers(plan, file)
    division: DivisionOfWork | None = None
    if plan.leaders_file is not None:
        division = divisions.get(plan.leaders_file)
        if division is None:
            _fail(file, "leaders_file", f"{plan.leaders_file} is not a division of work in the packs folder")
        if division.jurisdiction != plan.jurisdiction:
            _fail(
                file, "leaders_file", f"{division.id} is for {division.jurisdiction}, not {plan.jurisdiction}"
            )
    _check_sections(plan, file)
    _check_numbering(plan, file)
    for index, task in enumerate(plan.tasks):
        _check_task(plan, task, index, file, units, division)
    _check_indicators(plan, file)
    _check_milestones(plan, file)
    _check_plan_duties(plan, file)
    _check_rewards(plan, file)
    _check_county_assessment(plan, file)
    return Plan(spec=plan, units=units, leaders=division, file=file)


def _check_implementers(plan: PlanFile, file: str) -> None:
    for index, code in enumerate(plan.implementing_jurisdictions):
        if code not in registry():
            _fail(file, f"implementing_jurisdictions.{index}", f"unknown jurisdiction {code}")
        if not _below(plan.jurisdiction, code):
            _fail(file, f"implementing_jurisdictions.{index}", f"{code} is not below {plan.jurisdiction}")
        if code in plan.implementing_jurisdictions[:index]:
            _fail(file, f"implementing_jurisdictions.{index}", f"{code} is listed twice")
    if plan.implementing_jurisdictions and plan.implementing_citation is None:
        _fail(file, "implementing_citation", "implementing jurisdictions need the sentence that names them")


def _check_sections(plan: PlanFile, file: str) -> None:
    seen: set[str] = set()
    for index, section in enumerate(plan.sections):
        if section.code in seen:
            _fail(file, f"sections.{index}.code", f"section {section.code} is listed twice")
        if section.parent is not None and section.parent not in seen:
            _fail(file, f"sections.{index}.parent", f"unknown section {section.parent} (parents come first)")
        seen.add(section.code)


def _check_numbering(plan: PlanFile, file: str) -> None:
    for index, task in enumerate(plan.tasks):
        if task.number != index + 1:
            numbers = {t.number for t in plan.tasks}
            missing = [str(n) for n in range(1, len(plan.tasks) + 1) if n not in numbers]
            _fail(
                file,
                f"tasks.{index}.number",
                f"tasks must be numbered 1, 2, 3 … in order without gaps; found {task.number} where "
                f"{index + 1} belongs" + (f" (missing: {', '.join(missing)})" if missing else ""),
            )
    printed: dict[str, int] = defaultdict(int)
    for index, task in enumerate(plan.tasks):
        if plan.numbering == "continuous":
            if task.numbered_as is not None:
                _fail(file, f"tasks.{index}.numbered_as", "only a plan numbered per section has numbered_as")
            continue
        printed[task.section] += 1
        if task.numbered_as != printed[task.section]:
            _fail(
                file,
                f"tasks.{index}.numbered_as",
                f"the tasks of section {task.section} must be numbered 1, 2, 3 … without gaps; found "
                f"{task.numbered_as} where {printed[task.section]} belongs",
            )


def _check_task(
    plan: PlanFile, task: Task, index: int, file: str, units: Units, division: DivisionOfWork | None
) -> None:
    where = f"tasks.{index}"
    if task.section not in {section.code for section in plan.sections}:
        _fail(file, f"{where}.section", f"unknown section {task.section}")
    if not task.citation.startswith(plan.document):
        _fail(file, f"{where}.citation", f"a citation starts with the document number {plan.document}")
    if plan.unit_roles == "responsible" and task.cooperating_units:
        _fail(
            file,
            f"{where}.cooperating_units",
            "this plan names responsible units only (unit_roles: responsible)",
        )
    seen: dict[str, str] = {}
    for role in ("lead_units", "cooperating_units"):
        for position, unit in enumerate(getattr(task, role)):
            canonical = units.resolve(unit)
            if canonical is None:
                _fail(
                    file,
                    f"{where}.{role}.{position}",
                    f"unknown unit {unit} (no such name or alias in {plan.units_file})",
                )
            if canonical in seen:
                _fail(
                    file, f"{where}.{role}.{position}", f"{unit} is named twice (also as {seen[canonical]})"
                )
            seen[canonical] = unit
    keys: set[str] = set()
    for position, aspect in enumerate(task.aspects):
        at = f"{where}.aspects.{position}"
        if aspect.key in keys:
            _fail(file, f"{at}.key", f"aspect {aspect.key} is listed twice")
        keys.add(aspect.key)
        if aspect.aspect not in task.text:
            _fail(file, f"{at}.aspect", f"the task's text does not name {aspect.aspect}")
        if units.resolve(aspect.unit) not in seen:
            _fail(file, f"{at}.unit", f"{aspect.unit} is not a lead or cooperating unit of the task")
        if not aspect.citation.startswith(task.citation):
            _fail(file, f"{at}.citation", f"a citation starts with the task's own ({task.citation})")
    if division is not None and not _has_leader(division, units, task.lead_units[0]):
        _fail(
            file,
            f"{where}.lead_units.0",
            f"no leader supervises or liaises with {task.lead_units[0]} in {plan.leaders_file}, and it has "
            "no documented assignment there",
        )


def _has_leader(division: DivisionOfWork, units: Units, unit: str) -> bool:
    named = [name for leader in division.leaders for name in (*leader.supervises, *leader.liaises)]
    named += [assignment.unit for assignment in division.assignments]
    return any(units.same(unit, name) for name in named)


def _check_indicators(plan: PlanFile, file: str) -> None:
    numbers = {task.number for task in plan.tasks}
    ids: set[str] = set()
    for index, indicator in enumerate(plan.indicators):
        where = f"indicators.{index}"
        if indicator.id in ids:
            _fail(file, f"{where}.id", f"indicator {indicator.id} is listed twice")
        ids.add(indicator.id)
        if indicator.task is not None and indicator.task not in numbers:
            _fail(file, f"{where}.task", f"the plan has no task {indicator.task}")
        previous: Target | None = None
        for position, target in enumerate(indicator.targets):
            at = f"{where}.targets.{position}"
            if target.deadline is None:
                if len(indicator.targets) > 1:
                    _fail(
                        file, f"{at}.deadline", "a target without a deadline must be its indicator's only one"
                    )
                if target.note is None:
                    _fail(
                        file,
                        f"{at}.note",
                        "a target without a deadline says in its note that the source states none",
                    )
                continue
            if target.deadline > plan.horizon:
                _fail(file, f"{at}.deadline", f"{target.deadline} is after the plan's horizon {plan.horizon}")
            if target.kind == "relative" and indicator.baseline is None:
                _fail(file, f"{at}.kind", "a relative target needs the indicator's baseline (year, value)")
            if previous is not None and previous.deadline is not None:
                if target.deadline <= previous.deadline:
                    _fail(file, f"{at}.deadline", "targets must be in the order of their deadlines")
                falls_back = (
                    target.value < previous.value
                    if indicator.direction == "higher"
                    else target.value > previous.value
                )
                if target.kind == previous.kind == "cumulative" and falls_back:
                    _fail(
                        file,
                        f"{at}.value",
                        f"a cumulative target cannot fall back ({previous.value} → {target.value})",
                    )
            previous = target


def _check_milestones(plan: PlanFile, file: str) -> None:
    for index, milestone in enumerate(plan.milestones):
        if milestone.deadline > plan.horizon:
            _fail(
                file,
                f"milestones.{index}.deadline",
                f"{milestone.deadline} is after the plan's horizon {plan.horizon}",
            )
        if index and milestone.deadline <= plan.milestones[index - 1].deadline:
            _fail(file, f"milestones.{index}.deadline", "milestones must be in the order of their deadlines")
        if not milestone.citation.startswith(plan.document):
            _fail(
                file,
                f"milestones.{index}.citation",
                f"a citation starts with the document number {plan.document}",
            )


def _check_plan_duties(plan: PlanFile, file: str) -> None:
    ids: set[str] = set()
    for index, duty in enumerate(plan.reporting_duties):
        if duty.id in ids:
            _fail(file, f"reporting_duties.{index}.id", f"reporting duty {duty.id} is listed twice")
        ids.add(duty.id)
        if not duty.citation.startswith(plan.document):
            _fail(
                file,
                f"reporting_duties.{index}.citation",
                f"a citation starts with the document number {plan.document}",
            )
        if plan.issued_on is None:
            _fail(
                file,
                f"reporting_duties.{index}",
                "the plan's own duties start on its issue date, and it has none",
            )
        if duty.tasks == "with_table_indicators" and not any(i.table_row and i.task for i in plan.indicators):
            _fail(file, f"reporting_duties.{index}.tasks", "no indicator of the table names a task")


def _check_rewards(plan: PlanFile, file: str) -> None:
    ids: set[str] = set()
    for index, reward in enumerate(plan.rewards):
        where = f"rewards.{index}"
        if reward.id in ids:
            _fail(file, f"{where}.id", f"reward {reward.id} is listed twice")
        ids.add(reward.id)
        if not reward.citation.startswith(plan.document):
            _fail(file, f"{where}.citation", f"a citation starts with the document number {plan.document}")
        if reward.kind == "one_off":
            if (
                reward.amount is None
                or reward.amount <= 0
                or reward.amount != reward.amount.quantize(Decimal("0.01"))
            ):
                _fail(file, f"{where}.amount", "a one-off reward needs a positive amount in yuan, to the fen")
            if reward.matching_share is not None or reward.matched_funds is not None:
                _fail(file, f"{where}.matching_share", "a one-off reward matches no other funds")
        else:
            if reward.matching_share is None or not Decimal(0) < reward.matching_share <= 1:
                _fail(
                    file, f"{where}.matching_share", "a matching reward needs a share above 0 and at most 1"
                )
            if reward.matched_funds is None:
                _fail(file, f"{where}.matched_funds", "a matching reward names the funds it matches")
            if reward.amount is not None:
                _fail(file, f"{where}.amount", "a matching reward has no fixed amount")


def _check_county_assessment(plan: PlanFile, file: str) -> None:
    scheme = plan.county_assessment
    if scheme is None:
        return
    if not scheme.citation.startswith(plan.document):
        _fail(
            file, "county_assessment.citation", f"a citation starts with the document number {plan.document}"
        )
    for index, code in enumerate(scheme.subjects):
        if code not in registry() or not _below(plan.jurisdiction, code):
            _fail(
                file,
                f"county_assessment.subjects.{index}",
                f"{code} is not a county, district or zone of {plan.jurisdiction}",
            )
        if code in scheme.subjects[:index]:
            _fail(file, f"county_assessment.subjects.{index}", f"{code} is listed twice")
    indicators = {indicator.id for indicator in plan.indicators}
    expected = 1
    for c_index, category in enumerate(scheme.categories):
        for i_index, item in enumerate(category.items):
            where = f"county_assessment.categories.{c_index}.items.{i_index}"
            if item.number != expected:
                _fail(
                    file,
                    f"{where}.number",
                    f"items are numbered 1, 2, 3 … without gaps; found {item.number} where {expected} "
                    "belongs",
                )
            expected += 1
            for r_index, indicator in enumerate(item.related_indicators):
                if indicator not in indicators:
                    _fail(
                        file,
                        f"{where}.related_indicators.{r_index}",
                        f"the plan has no indicator {indicator}",
                    )
