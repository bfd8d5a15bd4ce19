"""Marks for request fields whose allowed values come from the loaded schemes.

A field declared with ``json_schema_extra=scheme_enum()`` gets ``enum: [panjin, zhumadian]``
in the OpenAPI document once the packs are loaded (:mod:`appraisal.schemes.openapi`).
"""

from __future__ import annotations

from typing import Any

ENUM_MARK = "x-appraisal-enum"


def scheme_enum() -> dict[str, Any]:
    """A scheme id (``panjin``, ``zhumadian``, ...)."""
    return {ENUM_MARK: "scheme"}


def circumstance_enum() -> dict[str, Any]:
    """A downgrade or veto circumstance id of any loaded scheme."""
    return {ENUM_MARK: "circumstance"}


def document_enum() -> dict[str, Any]:
    """A rules document id (``detailed_rules``, ``plan``)."""
    return {ENUM_MARK: "rules_document"}
