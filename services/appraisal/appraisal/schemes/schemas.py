"""Answers about schemes and their versions."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from shared.dated_schemas import VersionHistoryRead
from shared.schemas import ResponseModel


class SchemeSummary(ResponseModel):
    scheme: str
    city: str
    name: str
    document: str
    issued_on: dt.date
    citation: str
    version: int = Field(description="The version in force today (else the latest recorded).")
    valid_from: dt.date
    valid_to: dt.date | None


class SchemeVersionStated(ResponseModel):
    """What a version of a scheme states (never rewritten)."""

    scheme: str
    version: int
    document: str
    issued_on: dt.date
    valid_from: dt.date
    valid_to: dt.date | None
    citation: str = Field(description="The article that puts the document in force.")


class SchemeVersionRead(VersionHistoryRead, SchemeVersionStated):
    """One version of a scheme in its history: the range it states (never rewritten), the days
    it is in force now, and what superseded or corrected what."""
