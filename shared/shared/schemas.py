"""Base pydantic models and field types for every API.

Request models forbid unknown fields (no mass assignment of read-only fields); text
fields refuse NUL bytes (PostgreSQL cannot store them) and are length-bounded.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

NO_NUL_PATTERN = "^[^\\u0000]*$"


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


Text = Annotated[
    str,
    StringConstraints(max_length=10_000),
    AfterValidator(_no_nul),
    Field(json_schema_extra={"pattern": NO_NUL_PATTERN}),
]
"""Free text: at most 10,000 characters, no NUL."""

Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_no_nul),
    Field(json_schema_extra={"pattern": NO_NUL_PATTERN}),
]
"""A short name or label: 1–200 characters, no NUL."""


def _date_text(value: object) -> object:
    if isinstance(value, dt.date) or (isinstance(value, str) and len(value) == 10):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


CalendarDate = Annotated[dt.date, BeforeValidator(_date_text)]
"""A date in a request body: only ``"YYYY-MM-DD"`` (not a number, which Python would read
as a Unix time)."""

NotABool = BeforeValidator(_not_a_bool)
"""Put last in an integer's ``Annotated[int, Field(ge=…), NotABool]``: refuses JSON true/false
(which Python would read as 1/0) while keeping the bounds in the OpenAPI schema."""

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
"""An identifier such as a jurisdiction code or a client id."""


class RequestModel(BaseModel):
    """Base for request bodies: unknown (including read-only) fields are rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
