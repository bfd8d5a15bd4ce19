"""The monthly county progress report (盘政办发〔2024〕4号 四（三）: 定期报告和通报制度)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from shared.money import Money
from shared.months import Month
from shared.schemas import ResponseModel
from welfare.standards.history import Citation


class ProgramProgress(ResponseModel):
    """One program in one jurisdiction in the month."""

    program: str
    active_enrolments: int = Field(description="enrolments active in the month")
    started: int = Field(description="enrolments that start in the month")
    ended: int = Field(description="enrolments whose last month it is")
    paid_entries: int = Field(description="regular payments for the month")
    paid_total: Money
    arrears_entries: int = Field(description="arrears (补发) booked during the month, for any month")
    arrears_total: Money
    overpayment_entries: int = Field(description="overpayments booked during the month, pending staff review")
    overpayment_total: Money


class JurisdictionProgress(ResponseModel):
    jurisdiction: str
    name: str
    programs: list[ProgramProgress]
    totals: ProgramProgress


class CountyProgressReport(ResponseModel):
    jurisdiction: str
    month: Month
    generated_at: dt.datetime
    citation: Citation
    rows: list[JurisdictionProgress] = Field(
        description="every jurisdiction of the area, counties in code order"
    )
    totals: ProgramProgress
