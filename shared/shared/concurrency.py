"""Optimistic concurrency: ``ETag`` on reads, ``If-Match`` required on updates (412/428)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from shared.errors import PreconditionFailed, PreconditionRequired

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of the version you read; required for every update.",
    ),
]
"""Declare as a parameter of every update endpoint, then call :func:`require_if_match`."""


def etag_for(entity_id: object, version: int) -> str:
    return f'"{entity_id}-v{version}"'


def set_etag(response: Response, entity_id: object, version: int) -> None:
    response.headers["ETag"] = etag_for(entity_id, version)


def require_if_match(header: str | None, entity_id: object, version: int) -> None:
    """Refuse the update unless ``If-Match`` names the current version of the record."""
    if header is None:
        raise PreconditionRequired("Updates need an If-Match header with the ETag of the version you read.")
    current = etag_for(entity_id, version)
    offered = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    if "*" not in offered and current not in offered:
        raise PreconditionFailed(
            "The record has changed since you read it; read it again and retry.",
            extra={"current_etag": current},
        )
