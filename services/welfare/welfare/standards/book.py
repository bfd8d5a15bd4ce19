"""Welfare standards as effective-dated versions: the policy pack, its checks, and look-ups.

A version states the dibao standard S (低保标准) and, where the document gives them,
the derived standards as multipliers of S together with the amount the document
states; the tiers of the 1960s-retiree allowance are fixed amounts. Loading refuses a
version whose stated amount differs from multiplier × S, or whose dates overlap
another version of the same jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.errors import PackError
from shared.jurisdictions import registry
from shared.money import to_money
from shared.packs import parse_pack

Program = Literal["dibao", "tekun", "orphan_concentrated", "orphan_scattered", "retiree_1960s"]
DERIVED_PROGRAMS: tuple[Program, ...] = ("tekun", "orphan_concentrated", "orphan_scattered")
TIERS = (1, 2, 3, 4)
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class Citation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    article: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    text: Annotated[str, StringConstraints(max_length=2000)] | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class DibaoStandard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    citation: Citation


class DerivedStandard(BaseModel):
    """A standard set as a multiple of S; the document's own figure is kept to check it."""

    model_config = ConfigDict(extra="forbid")

    multiplier: Annotated[Decimal, Field(gt=0, le=100)]
    stated_amount: Amount
    citation: Citation


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

    def covers(self, day: dt.date) -> bool:
        starts = self.effective_from is None or self.effective_from <= day
        return starts and (self.effective_to is None or day <= self.effective_to)


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
        computed = to_money(derived.multiplier * version.dibao.amount)
        if computed != derived.stated_amount:
            problems.append(
                (
                    f"{prefix}.{program}.stated_amount",
                    f"the document states {derived.stated_amount} but {derived.multiplier} × "
                    f"{version.dibao.amount} = {computed}",
                )
            )
    if version.retiree_1960s is not None and set(version.retiree_1960s.tiers) != set(TIERS):
        problems.append((f"{prefix}.retiree_1960s.tiers", "must give exactly the tiers 1, 2, 3 and 4"))
    if not any(getattr(version, p) for p in ("dibao", *DERIVED_PROGRAMS, "retiree_1960s")):
        problems.append((prefix, "states no standard"))
    for other in others:
        if other.id == version.id:
            problems.append((f"{prefix}.id", f"{version.id} is used twice"))
        elif _overlap(version, other):
            problems.append((f"{prefix}.effective_from", f"overlaps version {other.id}"))
    return problems


def _overlap(a: StandardVersion, b: StandardVersion) -> bool:
    low, high = dt.date.min, dt.date.max
    return (a.effective_from or low) <= (b.effective_to or high) and (b.effective_from or low) <= (
        a.effective_to or high
    )


@dataclass(frozen=True)
class Value:
    """One program's standard on a day, with where it comes from."""

    amount: Decimal | None
    tiers: dict[int, Decimal] | None
    version_id: str
    jurisdiction: str
    citation: Citation
    multiplier: Decimal | None = None


@dataclass(frozen=True)
class StandardsOn:
    jurisdiction: str
    on: dt.date
    values: dict[Program, Value | None]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StandardsBook:
    """Every jurisdiction's versions (pack files and versions added through the API)."""

    versions: dict[str, tuple[StandardVersion, ...]]
    formula: Citation

    def version_on(self, jurisdiction: str, day: dt.date) -> tuple[str, StandardVersion] | None:
        """The version in force on ``day``: the jurisdiction's own, else its city's."""
        for code in registry().ancestors_and_self(jurisdiction):
            for version in self.versions.get(code, ()):
                if version.covers(day):
                    return code, version
        return None

    def standards_on(self, jurisdiction: str, day: dt.date, staleness_days: int) -> StandardsOn:
        found = self.version_on(jurisdiction, day)
        values: dict[Program, Value | None] = dict.fromkeys(
            ("dibao", *DERIVED_PROGRAMS, "retiree_1960s"), None
        )
        warnings: list[str] = []
        if found is None:
            return StandardsOn(jurisdiction, day, values, ["no standard is known for this day"])
        source, version = found
        if version.dibao is not None:
            values["dibao"] = Value(version.dibao.amount, None, version.id, source, version.dibao.citation)
            for program in DERIVED_PROGRAMS:
                derived: DerivedStandard | None = getattr(version, program)
                if derived is not None:
                    amount = to_money(derived.multiplier * version.dibao.amount)
                    values[program] = Value(
                        amount, None, version.id, source, derived.citation, derived.multiplier
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

    def superseded_by(self, jurisdiction: str, version: StandardVersion) -> tuple[StandardVersion, ...]:
        """The jurisdiction's versions once ``version`` takes over: an earlier version still
        open on its first day ends the day before (a new version supersedes, never overwrites)."""
        start = version.effective_from
        kept = []
        for existing in self.versions.get(jurisdiction, ()):
            if start is not None:
                earlier = existing.effective_from is None or existing.effective_from < start
                still_open = existing.effective_to is None or existing.effective_to >= start
                if earlier and still_open:
                    existing = existing.model_copy(update={"effective_to": start - dt.timedelta(days=1)})
            kept.append(existing)
        return tuple(kept)

    def with_version(self, jurisdiction: str, version: StandardVersion) -> StandardsBook:
        merged = dict(self.versions)
        merged[jurisdiction] = tuple(
            sorted(
                (*self.superseded_by(jurisdiction, version), version),
                key=lambda v: v.effective_from or dt.date.min,
            )
        )
        return StandardsBook(merged, self.formula)


def load_book(packs_dir: Path) -> StandardsBook:
    files = sorted(packs_dir.glob("*.yaml"))
    if not files:
        raise PackError(str(packs_dir), "-", "no standards pack files")
    versions: dict[str, tuple[StandardVersion, ...]] = {}
    formula: Citation | None = None
    for path in files:
        pack = parse_pack(path, PackFile)
        if pack.jurisdiction not in registry():
            raise PackError(path.name, "jurisdiction", f"unknown jurisdiction {pack.jurisdiction}")
        if pack.jurisdiction in versions:
            raise PackError(path.name, "jurisdiction", f"{pack.jurisdiction} has another pack file")
        for index, version in enumerate(pack.versions):
            others = pack.versions[:index]
            problems = version_problems(version, others, f"versions.{index}")
            if problems:
                raise PackError(path.name, *problems[0])
        versions[pack.jurisdiction] = tuple(
            sorted(pack.versions, key=lambda v: v.effective_from or dt.date.min)
        )
        formula = formula or pack.formula
    assert formula is not None
    return StandardsBook(versions, formula)
