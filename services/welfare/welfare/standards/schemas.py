"""API models of the standards: what is in force on a day, and new versions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from shared.jurisdictions import JurisdictionCode
from shared.money import Money, NonNegativeMoney
from shared.schemas import RequestModel, ResponseModel
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
    multiplier: Annotated[str, StringConstraints(pattern=r"^\d{1,2}(\.\d{1,4})?$")] = Field(
        description='multiple of the dibao standard, e.g. "1.8"'
    )
    stated_amount: NonNegativeMoney = Field(description="the amount the document states")
    citation: CitationIn


class StandardVersionCreate(RequestModel):
    """A new standard version of a jurisdiction (never an overwrite of an existing one)."""

    jurisdiction: JurisdictionCode
    version_id: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    effective_from: dt.date
    effective_to: dt.date | None = None
    published_on: dt.date
    last_confirmed_on: dt.date | None = None
    dibao: NonNegativeMoney
    dibao_citation: CitationIn
    tekun: DerivedIn | None = None
    orphan_concentrated: DerivedIn | None = None
    orphan_scattered: DerivedIn | None = None
    retiree_1960s: dict[Annotated[str, StringConstraints(pattern=r"^[1-4]$")], NonNegativeMoney] | None = (
        Field(default=None, description='tier amounts, e.g. {"1": "713.00", …, "4": "571.00"}')
    )
    retiree_1960s_citation: CitationIn | None = None


class StandardVersionRead(ResponseModel):
    id: uuid.UUID
    jurisdiction: str
    version_id: str
    body: dict[str, object]
    created_by: str
    created_at: dt.datetime
    recalculation_id: uuid.UUID | None = None
