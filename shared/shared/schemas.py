"""Base pydantic models and field types for every API.

Request models forbid unknown fields (no mass assignment of read-only fields); text
fields refuse NUL bytes (PostgreSQL cannot store them) and are length-bounded.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_no_nul)]
"""Free text: at most 10,000 characters, no NUL."""

Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True), AfterValidator(_no_nul)
]
"""A short name or label: 1–200 characters, no NUL."""

Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
]
"""An identifier such as a jurisdiction code or a client id."""


class RequestModel(BaseModel):
    """Base for request bodies: unknown (including read-only) fields are rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
