"""API models of the standards: what is in force on a day, and new versions."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from shared.jurisdictions import JurisdictionCode
from shared.money import Money, NonNegativeMoney
from shared.schemas import CalendarDate, RequestModel, ResponseModel
from welfare.standards.book import Citation


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
    citations: list[CitationRead]
    formula: Citation
    warnings: list[str]


Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\u0000]*$")]


class CitationIn(RequestModel):
    document: Text200
    article: Text200
    text: Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\u0000]*$")] | None = None


class DerivedIn(RequestModel):
    multiplier: Annotated[str, StringConstraints(pattern=r"^(0\.\d{0,3}[1-9]|[1-9]\d?(\.\d{1,4})?)$")] = (
        Field(description='multiple of the dibao standard, e.g. "1.8"')
    )
    stated_amount: NonNegativeMoney = Field(description="the amount the document states")
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


class StandardVersionCreate(RequestModel):
    """A new standard version of a jurisdiction (never an overwrite of an existing one)."""

    jurisdiction: JurisdictionCode
    version_id: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    effective_from: CalendarDate
    effective_to: CalendarDate | None = None
    published_on: CalendarDate
    last_confirmed_on: CalendarDate | None = None
    dibao: NonNegativeMoney
    dibao_citation: CitationIn
    tekun: DerivedIn | None = None
    orphan_concentrated: DerivedIn | None = None
    orphan_scattered: DerivedIn | None = None
    retiree_1960s: RetireeTiersIn | None = None


class StandardVersionRead(ResponseModel):
    id: uuid.UUID
    jurisdiction: str
    version_id: str
    body: dict[str, object]
    created_by: str
    created_at: dt.datetime
    recalculation_id: uuid.UUID | None = None
