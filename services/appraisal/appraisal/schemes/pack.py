"""A city's appraisal scheme (考核办法) as data: one YAML pack per city in ``packs/``.

A scheme holds the score caps, grade bands, downgrade and veto circumstances, the
procedure's stages, deadlines and consequences of one city's source document, each item
with its citation. A third city needs only a new pack file. :func:`load_schemes` checks
every pack and raises :class:`shared.errors.PackError` naming the file, field and problem.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from appraisal.grading.schemas import GRADE_ORDER, Grade
from appraisal.interpretations import BAND_INTERPRETATIONS
from appraisal.schemes.history import SchemeHistory, VersionCollision
from appraisal.workflow.states import REOPEN_TO, Stage
from shared.errors import InvalidInput, PackError
from shared.packs import load_pack_folder, parse_pack

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def _citation(value: str) -> str:
    if not value.strip():
        raise ValueError("a citation (document number and article) is required")
    return value


def _month_day(value: str) -> str:
    match = _MONTH_DAY.match(value)
    if not match:
        raise ValueError("must be a day of the year written MM-DD, e.g. 08-15")
    try:
        dt.date(2001, int(match.group(1)), int(match.group(2)))  # a day every year has
    except ValueError:
        raise ValueError(f"{value} is not a day that every year has") from None
    return value


Citation = Annotated[str, AfterValidator(_citation)]
"""Document number and article, e.g. 盘政办发〔2024〕5号 第八条（三）9."""
MonthDay = Annotated[str, AfterValidator(_month_day)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
JurisdictionKind = Literal["city", "district", "county", "zone"]
Component = Literal["base", "ad_hoc", "bonus", "deductions"]
Places = Annotated[int, Field(ge=1)]


class PackModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Note = Annotated[str, StringConstraints(min_length=1)] | None
"""An explanation of ours beside a quotation: quoted ``text`` is the source's wording only
(appraisal.md: "explanations go in a note field, never inside the quotation")."""


def day_in(year: int, month_day: str) -> dt.date:
    month, day = month_day.split("-")
    return dt.date(year, int(month), int(day))


class AppraisalYear(PackModel):
    """考核年度 (Panjin art. 6, Zhumadian art. 5)."""

    starts: MonthDay
    ends: MonthDay
    text: str
    citation: Citation
    note: Note = None


class RulesPublication(PackModel):
    """A document (细则, 方案) the city must publish each year by a deadline."""

    document: Identifier
    name: str
    deadline: MonthDay
    text: str
    citation: Citation
    note: Note = None

    def deadline_in(self, year: int) -> dt.date:
        return day_in(year, self.deadline)


class SubjectKind(PackModel):
    """A kind of appraised subject (考核对象)."""

    kind: Identifier
    name: str
    jurisdiction_kinds: list[JurisdictionKind]
    ranked: bool
    text: str
    citation: Citation
    note: Note = None


class ZoneRule(PackModel):
    """Whether development zones (开发区) are ranked and graded."""

    ranked: bool
    text: str
    citation: Citation
    note: Note = None


class WorkflowStage(PackModel):
    stage: Stage
    name: str
    citation: Citation


class Cap(PackModel):
    """An upper limit on a score component; ``max: null`` means the year's scheme sets it."""

    max: Annotated[Decimal, Field(ge=0)] | None
    set_by_year: bool
    text: str
    citation: Citation
    note: Note = None


class Caps(PackModel):
    base: Cap
    ad_hoc: Cap
    bonus: Cap
    deductions: Cap


class ScoreRule(PackModel):
    """评分法: total = base + ad hoc + bonus − deductions."""

    text: str
    citation: Citation
    note: Note = None
    caps: Caps


class DoubleCounting(PackModel):
    """双倍加减分 for the province's points that concern a county (Panjin art. 10)."""

    multiplier: Annotated[Decimal, Field(gt=0)]
    text: str
    citation: Citation
    note: Note = None


class GradeBand(PackModel):
    """Ranks ``from_rank``..``to_rank`` (open-ended when null) get ``grade``, or the grade of
    an interpretation setting where the source grades no such rank (then ``text`` is null:
    there is nothing to quote, and ``note`` says why)."""

    grade: Grade | None
    interpretation: str | None = None
    from_rank: Places
    to_rank: Places | None
    text: str | None
    citation: Citation
    note: Note = None

    def covers(self, rank: int) -> bool:
        return self.from_rank <= rank and (self.to_rank is None or rank <= self.to_rank)


class DowngradeRule(PackModel):
    """降级: one grade lower per finding, never below ``floor``."""

    steps: Places
    floor: Grade
    text: str
    citation: Citation
    note: Note = None


class VetoRule(PackModel):
    """否决: the grade becomes ``grade`` (D)."""

    grade: Grade
    text: str
    citation: Citation
    note: Note = None


class Grades(PackModel):
    ranking_text: str
    ranking_citation: Citation
    ranking_note: Note = None
    bands: list[GradeBand] = Field(min_length=1)
    downgrade: DowngradeRule
    veto: VetoRule

    def band_for(self, rank: int) -> GradeBand:
        for band in self.bands:
            if band.covers(rank):
                return band
        raise LookupError(f"no grade band covers rank {rank}")  # the loader rules this out


class Circumstance(PackModel):
    """A listed downgrade (降级情形) or veto (否决情形) circumstance."""

    id: Identifier
    text: str
    citation: Citation
    note: Note = None
    fraud: bool = False
    """弄虚作假: also brings a criticism (Panjin art. 15, Zhumadian art. 18)."""


class CitedText(PackModel):
    text: str
    citation: Citation
    note: Note = None


class Rectification(PackModel):
    """整改: a written report within ``period_months`` after publication."""

    period_months: Places
    text: str
    citation: Citation
    note: Note = None


class Commendations(PackModel):
    """通报表扬 (Panjin art. 13, Zhumadian art. 16). ``rank_improvement_citation``: where the
    source commends a large rise in rank (null: it does not); how many places is large is
    the interpretation ``large_rank_rise_places``."""

    grade: Grade
    grade_citation: Citation
    rank_improvement_citation: Citation | None
    outstanding_citation: Citation
    text: str
    note: Note = None


class Interviewee(PackModel):
    """Who is interviewed (约谈), in the source's words; ``when_necessary``: only 「必要时」,
    and ``by`` whom when the source names another interviewer for them."""

    who: str
    when_necessary: bool = False
    by: str | None = None


class LeaderInterview(PackModel):
    """约谈 of the county government's leaders: grade D or last places years running."""

    grade: Grade
    last_places: Places
    consecutive_years: Places
    bars_awards: bool
    interviewer: str
    interviewees: list[Interviewee] = Field(min_length=1)
    text: str
    citation: Citation
    note: Note = None


class LargeDrop(PackModel):
    """The drop that brings an interview of the county food-safety office head, measured as the
    source measures it: Panjin art. 14 「考核成绩下降幅度较大」 by ``score`` (the total), Zhumadian
    art. 17 「考核排名退步较大」 by ``rank``. How large is an interpretation setting
    (``large_score_drop_points`` / ``large_rank_drop_places``)."""

    measure: Literal["score", "rank"]
    text: str
    citation: Citation


class OfficeHeadInterview(PackModel):
    """约谈 of the county food-safety office head: large drop, unresolved rectification."""

    large_drop: LargeDrop | None
    unresolved_rectification: bool
    bars_awards: bool
    interviewer: str
    interviewees: list[Interviewee] = Field(min_length=1)
    text: str
    citation: Citation
    note: Note = None


class Interviews(PackModel):
    leaders: LeaderInterview
    office_head: OfficeHeadInterview
    barred_text: str
    barred_citation: Citation
    barred_note: Note = None


class ContentArea(PackModel):
    """A content area of the appraisal (考核内容要点) and the score component it feeds."""

    number: Places
    name: str
    component: Component
    key_points: str
    citation: Citation
    note: Note = None


class Correction(PackModel):
    """A version that corrects recorded versions: which, why, and the document that decided it."""

    versions: list[Places] = Field(min_length=1)
    reason: Annotated[str, StringConstraints(min_length=1)]
    document_reference: Annotated[str, StringConstraints(min_length=1)]


class VersionRule(PackModel):
    """Which version of the city's scheme this file is, and the days it is valid (both
    included; ``valid_to: null`` until a later version supersedes it). ``text`` quotes the
    article that puts the document in force."""

    number: Places
    valid_from: dt.date
    valid_to: dt.date | None
    text: str
    citation: Citation
    note: Note = None
    correction: Correction | None = None


class Scheme(PackModel):
    """One version of a city's appraisal scheme."""

    scheme: Identifier
    city: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
    name: str
    document: str
    issued_on: dt.date
    citation: Citation
    version: VersionRule
    appraisal_year: AppraisalYear
    rules_publication: list[RulesPublication]
    subjects: list[SubjectKind] = Field(min_length=1)
    zones: ZoneRule
    workflow: list[WorkflowStage] = Field(min_length=1)
    score: ScoreRule
    double_counting: DoubleCounting | None
    grades: Grades
    downgrade_circumstances: list[Circumstance] = Field(min_length=1)
    veto_circumstances: list[Circumstance] = Field(min_length=1)
    carry_back: CitedText | None
    rectification: Rectification
    commendations: Commendations
    interviews: Interviews
    fraud: CitedText
    content_areas: list[ContentArea]

    def stage_order(self) -> tuple[Stage, ...]:
        return tuple(step.stage for step in self.workflow)

    def circumstance(self, circumstance_id: str) -> Circumstance | None:
        for item in (*self.downgrade_circumstances, *self.veto_circumstances):
            if item.id == circumstance_id:
                return item
        return None

    def with_year_caps(
        self,
        *,
        ad_hoc: Decimal | None = None,
        deductions: Decimal | None = None,
        location: str = "body",
    ) -> Scheme:
        """This scheme with the caps a year's 方案/细则 set (only where the source leaves them
        to the year, and never above the source's own cap)."""
        caps = self.score.caps
        updates: dict[str, Cap] = {}
        for name, value in (("ad_hoc", ad_hoc), ("deductions", deductions)):
            if value is None:
                continue
            cap: Cap = getattr(caps, name)
            field = f"{location}.{name}_cap"
            if not cap.set_by_year:
                raise InvalidInput.field(field, f"the {name} cap is fixed by {cap.citation}")
            if value < 0:
                raise InvalidInput.field(field, "must not be negative")
            if cap.max is not None and value > cap.max:
                raise InvalidInput.field(field, f"must not exceed {cap.max} ({cap.citation})")
            updates[name] = cap.model_copy(update={"max": value})
        if not updates:
            return self
        score = self.score.model_copy(update={"caps": caps.model_copy(update=updates)})
        return self.model_copy(update={"score": score})


def load_scheme(path: Path) -> Scheme:
    """Parse and check one pack file."""
    scheme = parse_pack(path, Scheme)
    _check(scheme, path.name)
    return scheme


def load_histories(packs_dir: Path) -> dict[str, SchemeHistory]:
    """Every ``*.yaml`` scheme version in ``packs_dir``, each checked, as each scheme's
    history of versions (the rule of :mod:`appraisal.schemes.history`)."""
    files: dict[int, str] = {}

    def load(path: Path) -> Scheme:
        scheme = load_scheme(path)
        files[id(scheme)] = path.name
        return scheme

    loaded = load_pack_folder(
        packs_dir,
        load,
        key=lambda scheme: f"{scheme.scheme} {scheme.version.number}",
        what="scheme version",
        key_field="version.number",
    )
    histories: dict[str, SchemeHistory] = {}
    for scheme in sorted(loaded.values(), key=lambda item: (item.scheme, item.version.number)):
        file = files[id(scheme)]
        history = histories.setdefault(scheme.scheme, SchemeHistory(scheme.scheme))
        if history.versions and history.latest().scheme.city != scheme.city:
            raise PackError(
                file, "city", f"scheme {scheme.scheme!r} is the scheme of {history.latest().scheme.city}"
            )
        correction = scheme.version.correction
        try:
            if correction is None:
                history.append(scheme)
            else:
                history.correct(scheme, correction.versions)
        except VersionCollision as exc:
            field = "version.valid_from" if correction is None else "version.correction.versions"
            raise PackError(file, field, exc.detail) from exc
    return histories


def load_schemes(packs_dir: Path) -> dict[str, Scheme]:
    """The latest recorded version of every scheme in ``packs_dir`` (all checked)."""
    return {name: history.latest().scheme for name, history in load_histories(packs_dir).items()}


def _check(scheme: Scheme, file: str) -> None:
    """The checks a schema cannot express; the first problem raises PackError."""
    version = scheme.version
    if version.valid_to is not None and version.valid_to < version.valid_from:
        raise PackError(file, "version.valid_to", f"must not be before valid_from ({version.valid_from})")
    if version.correction is not None and version.number in version.correction.versions:
        raise PackError(file, "version.correction.versions", "a version cannot correct itself")
    if version.correction is not None and max(version.correction.versions) > version.number:
        raise PackError(
            file, "version.correction.versions", "a correction corrects versions recorded before it"
        )
    _check_bands(scheme.grades, file)
    _check_grades(scheme.grades, file)
    _check_caps(scheme.score.caps, file)
    _check_circumstances(scheme, file)
    _check_workflow(scheme.workflow, file)
    _check_unique(file, "rules_publication", "document", [item.document for item in scheme.rules_publication])
    _check_unique(file, "subjects", "kind", [item.kind for item in scheme.subjects])
    _check_unique(file, "content_areas", "number", [item.number for item in scheme.content_areas])
    for index, kind in enumerate(scheme.subjects):
        if "zone" in kind.jurisdiction_kinds and kind.ranked != scheme.zones.ranked:
            raise PackError(
                file,
                f"subjects.{index}.ranked",
                f"must agree with zones.ranked ({scheme.zones.ranked})",
            )


def _check_bands(grades: Grades, file: str) -> None:
    expected_from = 1
    for index, band in enumerate(grades.bands):
        where = f"grades.bands.{index}"
        if band.from_rank != expected_from:
            missing = (
                f"rank {expected_from} has"
                if band.from_rank == expected_from + 1
                else f"ranks {expected_from}–{band.from_rank - 1} have"
            )
            problem = (
                f"{missing} no band (gap)"
                if band.from_rank > expected_from
                else f"overlaps the previous band (expected from_rank {expected_from})"
            )
            raise PackError(file, f"{where}.from_rank", problem)
        if band.to_rank is None:
            if index != len(grades.bands) - 1:
                raise PackError(file, f"{where}.to_rank", "only the last band may be open-ended (null)")
            break
        if band.to_rank < band.from_rank:
            raise PackError(file, f"{where}.to_rank", "must not be below from_rank")
        expected_from = band.to_rank + 1
    else:
        raise PackError(
            file,
            f"grades.bands.{len(grades.bands) - 1}.to_rank",
            f"ranks from {expected_from} have no band: the last band must be open-ended (null)",
        )
    for index, band in enumerate(grades.bands):
        where = f"grades.bands.{index}"
        if band.grade is None and band.interpretation is None:
            raise PackError(file, f"{where}.grade", "needs a grade or an interpretation")
        if band.grade is not None and band.interpretation is not None:
            raise PackError(
                file, f"{where}.interpretation", "a band has a grade or an interpretation, not both"
            )
        if band.grade is not None and band.text is None:
            raise PackError(file, f"{where}.text", "a band the source grades quotes the source")
        if band.interpretation is not None and band.interpretation not in BAND_INTERPRETATIONS:
            raise PackError(
                file,
                f"{where}.interpretation",
                f"unknown interpretation {band.interpretation!r}; known: {', '.join(BAND_INTERPRETATIONS)}",
            )


def _check_grades(grades: Grades, file: str) -> None:
    if GRADE_ORDER.index(grades.downgrade.floor) >= GRADE_ORDER.index(grades.veto.grade):
        raise PackError(file, "grades.downgrade.floor", "must be a better grade than the veto grade")


def _check_caps(caps: Caps, file: str) -> None:
    for name in ("base", "ad_hoc", "bonus", "deductions"):
        cap: Cap = getattr(caps, name)
        if cap.max is None and not cap.set_by_year:
            raise PackError(
                file,
                f"score.caps.{name}.max",
                "null (no cap) only when set_by_year is true: the year's scheme must set it",
            )


def _check_circumstances(scheme: Scheme, file: str) -> None:
    seen: dict[str, str] = {}
    for list_name in ("downgrade_circumstances", "veto_circumstances"):
        items: list[Circumstance] = getattr(scheme, list_name)
        for index, item in enumerate(items):
            where = f"{list_name}.{index}.id"
            if item.id in seen:
                raise PackError(file, where, f"duplicate circumstance id {item.id!r} ({seen[item.id]})")
            seen[item.id] = where


def _check_workflow(workflow: list[WorkflowStage], file: str) -> None:
    stages = [step.stage for step in workflow]
    _check_unique(file, "workflow", "stage", [stage.value for stage in stages])
    tail = (REOPEN_TO, Stage.PUBLISHED, Stage.RECTIFICATION)
    if tuple(stages[-3:]) != tail:
        raise PackError(
            file,
            "workflow",
            "must end with "
            + ", ".join(stage.value for stage in tail)
            + " (a reopening returns to the comprehensive evaluation)",
        )


def _check_unique(file: str, list_name: str, key: str, values: Sequence[str | int]) -> None:
    seen: set[str | int] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise PackError(file, f"{list_name}.{index}.{key}", f"duplicate {key} {value!r}")
        seen.add(value)
