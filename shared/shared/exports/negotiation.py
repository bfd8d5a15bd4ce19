"""Content negotiation for endpoints with several formats (RFC 9110 §12.5.1).

``format=`` wins over the Accept header; an Accept that names none of the formats an endpoint
offers (after q-values and wildcards) is 406 problem+json listing what it can serve.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.errors import NotAcceptable

JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"

#: RFC 9110 §12.4.2 qvalue
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")

#: ``format=`` values and the media type each names
FORMATS = {"json": JSON, "xlsx": XLSX, "csv": CSV, "docx": DOCX, "pdf": PDF}


@dataclass(frozen=True)
class Negotiated:
    format: str
    media_type: str


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                # qvalue: 0 to 1 with at most three decimals; anything else (nan, inf, 1e3) is 0
                value = value.strip()
                quality = float(value) if _QVALUE.fullmatch(value) else 0.0
        ranges.append((media, quality))
    return ranges


def _quality(media_type: str, ranges: list[tuple[str, float]]) -> float:
    """The q of the most specific range that matches ``media_type`` (0 when none does)."""
    kind = media_type.split("/")[0] + "/*"
    best: tuple[int, float] = (-1, 0.0)
    for media, quality in ranges:
        rank = 2 if media == media_type else 1 if media == kind else 0 if media == "*/*" else -1
        if rank > best[0]:
            best = (rank, quality)
    return best[1] if best[0] >= 0 else 0.0


def negotiate(accept: str | None, offered: Sequence[str], format: str | None = None) -> Negotiated:
    """The format to answer in: ``format=`` if given, else the offered media type the Accept
    header prefers (the first offered on a tie or with no header)."""
    if format:
        return Negotiated(format, FORMATS[format])
    if not accept or not accept.strip():
        return Negotiated(_format_of(offered[0]), offered[0])
    ranges = _ranges(accept)
    scored = [(_quality(media, ranges), -index, media) for index, media in enumerate(offered)]
    quality, _, media = max(scored)
    if quality <= 0:
        names = ", ".join(offered)
        raise NotAcceptable(
            f"This resource is available as {names}; the Accept header names none of them.",
            extra={"available": list(offered)},
        )
    return Negotiated(_format_of(media), media)


def _format_of(media_type: str) -> str:
    return next(name for name, media in FORMATS.items() if media == media_type)
