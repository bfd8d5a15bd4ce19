"""Optimistic concurrency: ``ETag`` on reads, ``If-Match`` required on updates (412/428),
``If-None-Match`` answered 304 on reads (:class:`ConditionalGetMiddleware`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PreconditionFailed, PreconditionRequired

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description=(
            "The ETag of the version you read; required for every update (`*`, naming no "
            "version, is refused 428)."
        ),
    ),
]
"""Declare as a parameter of every update endpoint, then call :func:`require_if_match`."""


def etag_for(entity_id: object, version: int) -> str:
    return f'"{entity_id}-v{version}"'


def set_etag(response: Response, entity_id: object, version: int) -> None:
    response.headers["ETag"] = etag_for(entity_id, version)


def require_if_match(header: str | None, entity_id: object, version: int) -> None:
    """Refuse the update unless ``If-Match`` names the current version of the record. ``*``
    (any version) is 428 as no header is: it would overwrite a change made since the caller
    read the record, which is what the version check is for."""
    if header is None:
        raise PreconditionRequired("Updates need an If-Match header with the ETag of the version you read.")
    current = etag_for(entity_id, version)
    offered = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    if "*" in offered:
        raise PreconditionRequired(
            "If-Match: * names no version; send the record's ETag, of the version you read."
        )
    if current not in offered:
        raise PreconditionFailed(
            "The record has changed since you read it; read it again and retry.",
            extra={"current_etag": current},
        )


# headers a 304 keeps (RFC 9110 §15.4.5); the body and its headers go
_NOT_MODIFIED_KEEPS = frozenset(
    {b"etag", b"cache-control", b"content-location", b"date", b"expires", b"vary", b"x-request-id"}
)


def _opaque_tags(header: bytes) -> set[bytes]:
    """The entity tags of an If-None-Match header, weak prefixes dropped (weak comparison)."""
    tags = set()
    for part in header.split(b","):
        tag = part.strip()
        if tag.startswith(b"W/"):
            tag = tag[2:]
        if tag:
            tags.add(tag)
    return tags


class ConditionalGetMiddleware:
    """``If-None-Match`` → ``304 Not Modified`` on every read that answers with an ``ETag``.

    One mechanism for every service: a GET or HEAD whose 200 answer carries an ETag that the
    request's ``If-None-Match`` names (or ``*``) is answered 304 with the ETag and the caching
    headers, without the body. Reads without an ETag and every other method are untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        header = b",".join(value for name, value in scope["headers"] if name == b"if-none-match")
        if not header:
            await self.app(scope, receive, send)
            return
        offered = _opaque_tags(header)
        not_modified = False

        async def send_conditionally(message: Message) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start" and message["status"] == 200:
                headers = message.get("headers", [])
                etags = [value for name, value in headers if name.lower() == b"etag"]
                if etags and (b"*" in offered or _opaque_tags(etags[0]) & offered):
                    not_modified = True
                    kept = [(name, value) for name, value in headers if name.lower() in _NOT_MODIFIED_KEEPS]
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            if not_modified:
                return  # the body of the 200 that became a 304
            await send(message)

        await self.app(scope, receive, send_conditionally)
