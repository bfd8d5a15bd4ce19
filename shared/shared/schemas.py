"""Base pydantic models and field types for every API.

Request models forbid unknown fields (no mass assignment of read-only fields); text
fields refuse NUL bytes (PostgreSQL cannot store them) and are length-bounded.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
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

# Cc (controls: NUL, newline, tab, DEL, C1) and Cf (invisible formatting: soft hyphen, zero-width
# space/joiners U+200B–U+200F, bidirectional embeddings and overrides U+202A–U+202E and
# isolates U+2066–U+2069, word joiner, BOM …) as a JSON Schema class: the BMP ones (the
# validator refuses the few astral Cf characters too)
_SHOWS_AS_NOTHING = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xE0100, 0xE01EF),  # ideographic variation selectors
)
"""Characters outside Cc and Cf that Unicode lists as default-ignorable: shown as nothing."""

_INVISIBLE = (
    "\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890\\u0891"
    "\\u08E2\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB"
    # line and paragraph separators (Zl, Zp), and the BMP ones of the characters shown as nothing
    "\\u2028\\u2029"
    + "".join(
        f"\\u{low:04X}" if low == high else f"\\u{low:04X}-\\u{high:04X}"
        for low, high in _SHOWS_AS_NOTHING
        if high <= 0xFFFF
    )
)
NAME_PATTERN = f"^[^{_INVISIBLE}]*[^\\s{_INVISIBLE}][^{_INVISIBLE}]*$"


def _invisible(char: str) -> bool:
    """A control, formatting, line- or paragraph-separating character, or one shown as nothing."""
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _SHOWS_AS_NOTHING)


def _visible_name(value: str) -> str:
    """A name as people type and read it: surrounding white space stripped (by the
    constraints before this), then not empty and without control, invisible formatting or
    line-separating characters, which make two names that look alike differ, make one read
    backwards, or break it over lines."""
    if not value:
        raise ValueError("must not be empty or only white space")
    for char in value:
        if _invisible(char):
            raise ValueError(
                f"must not contain control or invisible formatting characters (U+{ord(char):04X}, "
                "e.g. a line break, zero-width space, right-to-left override or Hangul filler)"
            )
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=200),
    AfterValidator(_visible_name),
    Field(min_length=1, json_schema_extra={"pattern": NAME_PATTERN}),
]
"""A name or label a person types (a person's, a unit's, a reference): 1–200 characters
after surrounding white space is stripped; no control or invisible formatting characters
(Unicode Cc and Cf: line breaks, zero-width characters, bidirectional overrides), no line or
paragraph separators, and none of the characters Unicode says show as nothing (variation
selectors, Hangul fillers, the combining grapheme joiner)."""

Address = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    AfterValidator(_visible_name),
    Field(min_length=1, json_schema_extra={"pattern": NAME_PATTERN}),
]
"""An address a person types: as :data:`Name`, up to 500 characters."""


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
