"""API models of the standards: what is in force on a day, and new versions."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from shared.jurisdictions import JurisdictionCode
from shared.money import Money, NonNegativeMoney
from shared.schemas import CalendarDate, RequestModel, ResponseModel
from welfare.standards.history import Citation, Residence


class CitationRead(ResponseModel):
    program: str
    version: str
    jurisdiction: str
    document: str
    article: str
    text: str | None = None
    note: str | None = None


class StandardsRead(ResponseModel):
    """Standards in force on ``on``; ``null`` where the sources do not give one."""

    jurisdiction: str
    on: dt.date
    dibao: Money | None
    tekun: Money | None
    orphan_concentrated: Money | None
    orphan_scattered: Money | None
    retiree_1960s: dict[str, Money] | None
    residence: Residence | None = Field(
        default=None, description="the residence asked for, where the city sets urban and rural standards"
    )
    by_residence: dict[str, dict[Residence, Money]] | None = Field(
        default=None,
        description="where the city sets urban (城市) and rural (农村) standards: each program's two amounts",
    )
    citations: list[CitationRead]
    formula: Citation
    warnings: list[str]


Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\u0000]*$")]


class CitationIn(RequestModel):
    document: Text200
    article: Text200
    text: Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\u0000]*$")] | None = None


class DerivedIn(RequestModel):
    multiplier: Annotated[
        str, StringConstraints(pattern=r"^(0\.[0-9]{0,3}[1-9]|[1-9][0-9]?(\.[0-9]{1,4})?)$")
    ] = Field(description='multiple of the dibao standard, e.g. "1.8"')
    stated_amount: NonNegativeMoney | None = Field(
        default=None, description="the amount the document states (one dibao standard)"
    )
    stated_urban: NonNegativeMoney | None = Field(
        default=None, description="the urban amount the document states (split dibao standards)"
    )
    stated_rural: NonNegativeMoney | None = Field(
        default=None, description="the rural amount the document states (split dibao standards)"
    )
    citation: CitationIn


class RetireeTiersIn(RequestModel):
    """The four tier amounts of the 1960s-retiree allowance, with their citation."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tier_1: NonNegativeMoney = Field(alias="1")
    tier_2: NonNegativeMoney = Field(alias="2")
    tier_3: NonNegativeMoney = Field(alias="3")
    tier_4: NonNegativeMoney = Field(alias="4")
    citation: CitationIn

    def tiers(self) -> dict[int, Decimal]:
        return {1: self.tier_1, 2: self.tier_2, 3: self.tier_3, 4: self.tier_4}


VersionId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]


class StandardVersionCreate(RequestModel):
    """A new standard version of a jurisdiction (never an overwrite of an existing one)."""

    jurisdiction: JurisdictionCode
    version_id: VersionId
    effective_from: CalendarDate
    effective_to: CalendarDate | None = None
    published_on: CalendarDate
    last_confirmed_on: CalendarDate | None = None
    dibao: NonNegativeMoney | None = Field(default=None, description="one standard for town and country")
    dibao_urban: NonNegativeMoney | None = Field(default=None, description="the urban (城市) standard")
    dibao_rural: NonNegativeMoney | None = Field(default=None, description="the rural (农村) standard")
    dibao_citation: CitationIn
    tekun: DerivedIn | None = None
    orphan_concentrated: DerivedIn | None = None
    orphan_scattered: DerivedIn | None = None
    retiree_1960s: RetireeTiersIn | None = None


class StandardCorrectionCreate(StandardVersionCreate):
    """A correction of recorded versions (welfare:admin): on its days the versions it names
    stop being in force; what they were in force over stays readable."""

    corrects: Annotated[list[VersionId], Field(min_length=1, max_length=20)] = Field(
        description="every version of the jurisdiction in force on one of the correction's days"
    )
    reason: Annotated[
        str, StringConstraints(min_length=1, max_length=2000, pattern=r"^[^\u0000]*\S[^\u0000]*$")
    ] = Field(description="why the recorded versions were wrong")
    document_reference: Annotated[
        str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\u0000]*\S[^\u0000]*$")
    ] = Field(description="the document that decided the correction, e.g. 盘政办发〔2024〕4号")


class StandardVersionRead(ResponseModel):
    id: uuid.UUID
    jurisdiction: str
    version_id: str
    body: dict[str, object]
    created_by: str
    created_at: dt.datetime
    corrects: list[str] = []
    reason: str | None = None
    document_reference: str | None = None
    recalculation_id: uuid.UUID | None = None


class DaysRead(ResponseModel):
    effective_from: dt.date | None = Field(description="null: an open start")
    effective_to: dt.date | None = Field(description="null: open-ended")


class RangeChangeRead(ResponseModel):
    correction: str
    before: list[DaysRead]
    after: list[DaysRead]


class StandardHistoryRead(ResponseModel):
    """One version in a jurisdiction's history: what it states, the days it is in force,
    and what superseded or corrected it."""

    version_id: str
    jurisdiction: str
    source: Literal["pack", "api"]
    stated: DaysRead
    in_force: list[DaysRead]
    status: Literal["in_force", "ended", "superseded", "corrected", "not_applied"]
    supersedes: str | None
    superseded_by: str | None
    corrects: list[str]
    corrected_by: list[str]
    changes: list[RangeChangeRead]
    recorded_by: str | None
    recorded_at: dt.datetime | None
    reason: str | None
    document_reference: str | None
    not_applied: str | None = Field(
        default=None,
        description="why a version recorded through the API is in force on no day: the packs of a later "
        "release collide with it",
    )
    body: dict[str, object]
