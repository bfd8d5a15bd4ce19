"""The consequences of a published year (结果运用), as lists for people to decide on."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from appraisal.years.schemas import FindingRead
from shared.schemas import ResponseModel


class ConsequencesRead(ResponseModel):
    year: int
    scheme: str
    published_on: dt.date
    commendations: list[FindingRead] = Field(description="通报表扬: grade A, a large rise, outstanding.")
    leader_interviews: list[FindingRead] = Field(
        description="约谈 of the county leaders: grade D, or last place(s) three years running."
    )
    office_head_interviews: list[FindingRead] = Field(
        description="约谈 of the county food-safety office head: a large drop, unresolved rectification."
    )
    barred_from_awards: list[FindingRead] = Field(description="Interviewed leaders may not take awards.")
    criticisms: list[FindingRead] = Field(description="通报批评 for fraud (弄虚作假) in the appraisal.")
    rectification: list[FindingRead] = Field(description="Rectification reports missing (overdue) or late.")
    rules_not_published: list[FindingRead] = Field(
        description="The year's rules not published by their deadline."
    )
    history_years: list[int] = Field(description="Earlier years whose published ranks were read.")
