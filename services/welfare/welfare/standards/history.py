"""Welfare standards as effective-dated versions: the policy pack, its checks, and look-ups.

A version states the dibao standard S (低保标准), either one for town and country
(城乡统一, Panjin) or an urban (城市) and a rural (农村) one (welfare.md, "Urban and rural
standards"), and, where the document gives them, the derived standards as multipliers
of S together with the amount the document states (one per residence where S is split:
a derived standard follows the S it is derived from); the tiers of the 1960s-retiree
allowance are fixed amounts. Loading refuses a version whose stated amount differs from
multiplier × S, or whose dates overlap another version of the same jurisdiction.

History follows the platform's rule for dated data (:mod:`shared.dated`, the same as
appraisal's scheme versions and eldercare's catalogues): the versions of a jurisdiction are
read in the order they were recorded (the pack's, then those added through the API); a
version may supersede only the open-ended version in force, anything else that overlaps is
refused naming the version (a one-day version in 2000 cannot cut Panjin's 792.00 version, in
force until 2024-06-30), and a correction names every version it corrects, with the reason
and the document that decided it.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.dated import ONE_DAY, DatedHistory, DatedVersion, Days
from shared.errors import PackError
from shared.jurisdictions import registry
from shared.money import to_money
from shared.packs import parse_pack

Program = Literal["dibao", "tekun", "orphan_concentrated", "orphan_scattered", "retiree_1960s"]
PROGRAMS: tuple[Program, ...] = ("dibao", "tekun", "orphan_concentrated", "orphan_scattered", "retiree_1960s")
DERIVED_PROGRAMS: tuple[Program, ...] = ("tekun", "orphan_concentrated", "orphan_scattered")
Residence = Literal["urban", "rural"]
RESIDENCES: tuple[Residence, ...] = ("urban", "rural")
TIERS = (1, 2, 3, 4)
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
OPEN_START_FLOOR = dt.date(2021, 1, 1)
"""The first day a version with an open start (``effective_from: null``) pays. The sources give no
start for Panjin's 792.00 (welfare.md); it is the standard of 盘政办发〔2021〕11号, a document of
2021, so no month before 2021 is paid under it (nothing back to 1900): an enrolment starts no
earlier, and a payroll or recalculation of an earlier month finds no standard to pay with."""
MAX_MONTHLY_STANDARD = Decimal("100000.00")
"""The highest monthly standard per person a version may state or derive (Panjin's dibao is
800.00, its highest derived standard 2400.00). With at most 50 covered members a month's
amount stays far inside the ledger's numeric(14, 2): a standard mistyped by orders of
magnitude is refused at input (422), never found by a payroll overflowing the ledger."""


class Citation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    article: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    text: Annotated[str, StringConstraints(max_length=2000)] | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class DibaoStandard(BaseModel):
    """``amount`` for one standard of town and country, or ``urban`` and ``rural``."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount | None = None
    urban: Amount | None = None
    rural: Amount | None = None
    citation: Citation

    @model_validator(mode="after")
    def _one_form(self) -> DibaoStandard:
        split = self.urban is not None or self.rural is not None
        if split and (self.amount is not None or self.urban is None or self.rural is None):
            raise ValueError("give either amount (one standard) or both urban and rural, not a mix")
        if not split and self.amount is None:
            raise ValueError("give amount (one standard) or urban and rural")
        return self

    @property
    def split(self) -> bool:
        return self.amount is None

    def by_residence(self) -> dict[Residence, Decimal]:
        assert self.urban is not None
        assert self.rural is not None
        return {"urban": self.urban, "rural": self.rural}


class DerivedStandard(BaseModel):
    """A standard set as a multiple of S; the document's own figure (per residence where S
    is split) is kept to check it."""

    model_config = ConfigDict(extra="forbid")

    multiplier: Annotated[Decimal, Field(gt=0, le=100)]
    stated_amount: Amount | None = None
    stated_urban: Amount | None = None
    stated_rural: Amount | None = None
    citation: Citation

    def stated(self, residence: Residence | None) -> Decimal | None:
        if residence is None:
            return self.stated_amount
        return self.stated_urban if residence == "urban" else self.stated_rural


class TierStandard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tiers: dict[int, Amount]
    citation: Citation


class StandardVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    effective_from: dt.date | None = Field(description="None: in force since before the sources")
    effective_to: dt.date | None = None
    published_on: dt.date | None = None
    last_confirmed_on: dt.date | None = None
    dibao: DibaoStandard | None = None
    tekun: DerivedStandard | None = None
    orphan_concentrated: DerivedStandard | None = None
    orphan_scattered: DerivedStandard | None = None
    retiree_1960s: TierStandard | None = None

    @property
    def stated(self) -> Days:
        return Days(self.effective_from, self.effective_to)

    def covers(self, day: dt.date) -> bool:
        return self.stated.covers(day)

    def states(self, program: str) -> bool:
        return getattr(self, program, None) is not None


class PackFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jurisdiction: str
    formula: Citation
    versions: list[StandardVersion]


def version_problems(
    version: StandardVersion, others: Iterable[StandardVersion], prefix: str
) -> list[tuple[str, str]]:
    """What is wrong with ``version`` on its own and beside ``others`` (field, problem)."""
    problems: list[tuple[str, str]] = []
    if version.effective_from and version.effective_to and version.effective_to < version.effective_from:
        problems.append((f"{prefix}.effective_to", "is before effective_from"))
    for program in DERIVED_PROGRAMS:
        derived: DerivedStandard | None = getattr(version, program)
        if derived is None:
            continue
        if version.dibao is None:
            problems.append(
                (
                    f"{prefix}.{program}",
                    "a derived standard needs the dibao standard of its version",
                )
            )
            continue
        standards: dict[Residence | None, Decimal] = {}
        if version.dibao.split:
            for split_residence, split_standard in version.dibao.by_residence().items():
                standards[split_residence] = split_standard
        elif version.dibao.amount is not None:
            standards[None] = version.dibao.amount
        for residence, standard in standards.items():
            name = {None: "stated_amount", "urban": "stated_urban", "rural": "stated_rural"}[residence]
            stated = derived.stated(residence)
            computed = to_money(derived.multiplier * standard)
            if stated is None:
                problems.append(
                    (
                        f"{prefix}.{program}.{name}",
                        f"is required: the dibao standard is {'split' if residence else 'one'} "
                        f"({derived.multiplier} × {standard} = {computed})",
                    )
                )
            elif computed != stated:
                problems.append(
                    (
                        f"{prefix}.{program}.{name}",
                        f"the document states {stated} but {derived.multiplier} × {standard} = {computed}",
                    )
                )
        extra = {"stated_amount"} if version.dibao.split else {"stated_urban", "stated_rural"}
        for name in sorted(extra):
            if getattr(derived, name) is not None:
                problems.append((f"{prefix}.{program}.{name}", "does not fit the form of the dibao standard"))
    problems.extend(implausible_amounts(version, prefix))
    if version.retiree_1960s is not None and set(version.retiree_1960s.tiers) != set(TIERS):
        problems.append((f"{prefix}.retiree_1960s.tiers", "must give exactly the tiers 1, 2, 3 and 4"))
    if not any(getattr(version, p) for p in PROGRAMS):
        problems.append((prefix, "states no standard"))
    for other in others:
        if other.id == version.id:
            problems.append((f"{prefix}.id", f"{version.id} is used twice"))
        elif version.stated.overlaps(other.stated):
            problems.append((f"{prefix}.effective_from", f"overlaps version {other.id}"))
    return problems


def implausible_amounts(version: StandardVersion, prefix: str) -> list[tuple[str, str]]:
    """Amounts stated or derived above :data:`MAX_MONTHLY_STANDARD` (field, problem)."""
    amounts: list[tuple[str, Decimal]] = []
    standards: list[Decimal] = []
    if version.dibao is not None:
        for name in ("amount", "urban", "rural"):
            value = getattr(version.dibao, name)
            if value is not None:
                amounts.append((f"dibao.{name}", value))
                standards.append(value)
    for program in DERIVED_PROGRAMS:
        derived: DerivedStandard | None = getattr(version, program)
        if derived is None:
            continue
        for name in ("stated_amount", "stated_urban", "stated_rural"):
            value = getattr(derived, name)
            if value is not None:
                amounts.append((f"{program}.{name}", value))
        amounts.extend((f"{program}.multiplier", to_money(derived.multiplier * s)) for s in standards)
    if version.retiree_1960s is not None:
        amounts.extend((f"retiree_1960s.tiers.{t}", a) for t, a in version.retiree_1960s.tiers.items())
    return [
        (
            f"{prefix}.{field}",
            f"gives a monthly amount of {amount}, above the plausible maximum "
            f"{MAX_MONTHLY_STANDARD} per person",
        )
        for field, amount in amounts
        if amount > MAX_MONTHLY_STANDARD
    ]


@dataclass(frozen=True)
class Recorded:
    """Who recorded a version through the API, when, and (for a correction) why."""

    by: str
    at: dt.datetime
    reason: str | None = None
    document_reference: str | None = None


@dataclass(kw_only=True)
class Entry(DatedVersion[str]):
    """One version of a jurisdiction's standards: what it states, the days it is in force,
    and what it superseded or corrected."""

    version: StandardVersion
    jurisdiction: str
    source: Literal["pack", "api"]
    recorded: Recorded | None = None
    not_applied: str | None = None

    @classmethod
    def of(
        cls,
        version: StandardVersion,
        jurisdiction: str,
        source: Literal["pack", "api"],
        recorded: Recorded | None = None,
        *,
        corrects: Sequence[str] = (),
    ) -> Entry:
        stated = version.stated
        return cls(
            key=version.id,
            stated=stated,
            in_force=[stated],
            corrects=tuple(corrects),
            version=version,
            jurisdiction=jurisdiction,
            source=source,
            recorded=recorded,
        )

    @property
    def id(self) -> str:
        return self.version.id

    @property
    def status(self) -> Literal["in_force", "ended", "superseded", "corrected", "not_applied"]:
        if self.not_applied is not None:
            return "not_applied"
        status = self.dated_status()
        return "ended" if status == "in_force" and self.version.effective_to is not None else status

    def label(self) -> str:
        return f"version {self.id} of {self.jurisdiction}"


@dataclass(frozen=True)
class Value:
    """One program's standard on a day, with where it comes from. Where the city sets
    urban and rural standards, ``by_residence`` has both and ``amount`` is the one of
    ``residence`` (None when no residence was given)."""

    amount: Decimal | None
    tiers: dict[int, Decimal] | None
    version_id: str
    jurisdiction: str
    citation: Citation
    multiplier: Decimal | None = None
    by_residence: dict[Residence, Decimal] | None = None
    residence: Residence | None = None


@dataclass(frozen=True)
class StandardsOn:
    jurisdiction: str
    on: dt.date
    values: dict[Program, Value | None]
    warnings: list[str] = field(default_factory=list)

    @property
    def split(self) -> bool:
        """The city sets urban and rural standards on this day."""
        return any(value is not None and value.by_residence for value in self.values.values())


@dataclass(frozen=True)
class StandardHistories:
    """Every jurisdiction's history of versions (pack files, then those added through the API)."""

    histories: dict[str, tuple[Entry, ...]]
    formula: Citation

    def entries(self, jurisdiction: str) -> tuple[Entry, ...]:
        return self.histories.get(jurisdiction, ())

    def all_entries(self) -> Iterable[Entry]:
        for entries in self.histories.values():
            yield from entries

    def find(self, version_id: str) -> Entry | None:
        return next((entry for entry in self.all_entries() if entry.id == version_id), None)

    def version_on(self, jurisdiction: str, day: dt.date) -> tuple[str, StandardVersion] | None:
        """The version in force on ``day``: the jurisdiction's own, else its city's."""
        for code in registry().ancestors_and_self(jurisdiction):
            for entry in self.entries(code):
                if any(piece.covers(day) for piece in entry.in_force):
                    return code, entry.version
        return None

    def paid_from(self, jurisdiction: str, program: str) -> dt.date | None:
        """The first day a standard of ``program`` applying to ``jurisdiction`` (its own or an
        ancestor's) is in force, an open start counting from :data:`OPEN_START_FLOOR`; None when
        none ever is. No month before it is paid."""
        starts = [
            piece.start or OPEN_START_FLOOR
            for code in registry().ancestors_and_self(jurisdiction)
            for entry in self.entries(code)
            if entry.version.states(program)
            for piece in entry.in_force
        ]
        return min(starts, default=None)

    def standards_on(
        self, jurisdiction: str, day: dt.date, staleness_days: int, residence: Residence | None = None
    ) -> StandardsOn:
        found = self.version_on(jurisdiction, day)
        values: dict[Program, Value | None] = dict.fromkeys(PROGRAMS, None)
        warnings: list[str] = []
        if found is None:
            return StandardsOn(jurisdiction, day, values, ["no standard is known for this day"])
        source, version = found
        if version.dibao is not None:
            dibao = version.dibao
            split = dibao.by_residence() if dibao.split else None
            standard = dibao.amount if split is None else (split[residence] if residence else None)
            values["dibao"] = Value(
                standard, None, version.id, source, dibao.citation, None, split, residence if split else None
            )
            for program in DERIVED_PROGRAMS:
                derived: DerivedStandard | None = getattr(version, program)
                if derived is None:
                    continue
                by = {r: to_money(derived.multiplier * s) for r, s in split.items()} if split else None
                amount = to_money(derived.multiplier * standard) if standard is not None else None
                values[program] = Value(
                    amount,
                    None,
                    version.id,
                    source,
                    derived.citation,
                    derived.multiplier,
                    by,
                    residence if split else None,
                )
        if version.retiree_1960s is not None:
            values["retiree_1960s"] = Value(
                None,
                dict(version.retiree_1960s.tiers),
                version.id,
                source,
                version.retiree_1960s.citation,
            )
        confirmed = version.last_confirmed_on or version.published_on
        if confirmed is not None and (day - confirmed).days > staleness_days:
            warnings.append(
                f"version {version.id} was last confirmed valid on {confirmed}; standards are revised "
                "yearly, so it may be out of date for this day"
            )
        return StandardsOn(jurisdiction, day, values, warnings)

    # --- recording (the rule for dated data, :mod:`shared.dated`) ---------------------

    def _history(self, jurisdiction: str) -> DatedHistory[str, Entry]:
        """A copy of the jurisdiction's history to record into (the histories themselves never change)."""
        return DatedHistory(
            name=Entry.label,
            lacking="a standard",
            unknown=f"not a version of {jurisdiction}",
            recorded=copy.deepcopy(list(self.entries(jurisdiction))),
        )

    def _replaced(self, jurisdiction: str, entries: Iterable[Entry]) -> StandardHistories:
        histories = dict(self.histories)
        histories[jurisdiction] = tuple(entries)
        return StandardHistories(histories, self.formula)

    def with_version(
        self,
        jurisdiction: str,
        version: StandardVersion,
        *,
        source: Literal["pack", "api"] = "api",
        recorded: Recorded | None = None,
    ) -> StandardHistories:
        """The histories with ``version`` recorded; :class:`VersionCollision` when the rule refuses it."""
        history = self._history(jurisdiction)
        history.add(Entry.of(version, jurisdiction, source, recorded))
        return self._replaced(jurisdiction, history.entries)

    def with_correction(
        self, jurisdiction: str, version: StandardVersion, corrects: Sequence[str], recorded: Recorded
    ) -> StandardHistories:
        """The histories with ``version`` correcting the versions ``corrects`` (every version of the
        jurisdiction in force on one of its days must be named)."""
        history = self._history(jurisdiction)
        history.add_correction(Entry.of(version, jurisdiction, "api", recorded, corrects=corrects))
        return self._replaced(jurisdiction, history.entries)

    def with_not_applied(
        self, jurisdiction: str, version: StandardVersion, recorded: Recorded | None, why: str
    ) -> StandardHistories:
        """The histories with a recorded version the history refuses now (a later pack release that
        states the same days itself): kept in the history, in force on no day, with why."""
        entry = replace(Entry.of(version, jurisdiction, "api", recorded), in_force=[], not_applied=why)
        return self._replaced(jurisdiction, [*copy.deepcopy(list(self.entries(jurisdiction))), entry])


def load_standards(packs_dir: Path) -> StandardHistories:
    files = sorted(packs_dir.glob("*.yaml"))
    if not files:
        raise PackError(str(packs_dir), "-", "no standards pack files")
    histories: dict[str, tuple[Entry, ...]] = {}
    formula: Citation | None = None
    for path in files:
        pack = parse_pack(path, PackFile)
        if pack.jurisdiction not in registry():
            raise PackError(path.name, "jurisdiction", f"unknown jurisdiction {pack.jurisdiction}")
        if pack.jurisdiction in histories:
            raise PackError(path.name, "jurisdiction", f"{pack.jurisdiction} has another pack file")
        for index, version in enumerate(pack.versions):
            others = pack.versions[:index]
            problems = version_problems(version, others, f"versions.{index}")
            if problems:
                raise PackError(path.name, *problems[0])
        ordered = sorted(pack.versions, key=lambda v: v.effective_from or dt.date.min)
        entries = [Entry.of(v, pack.jurisdiction, "pack") for v in ordered]
        for before, after in itertools.pairwise(entries):
            # the pack's versions follow one another: the later took over the day after
            end = before.version.effective_to
            if end is not None and after.version.effective_from == end + ONE_DAY:
                before.superseded_by, after.supersedes = after.id, before.id
        histories[pack.jurisdiction] = tuple(entries)
        formula = formula or pack.formula
    assert formula is not None
    return StandardHistories(histories, formula)
