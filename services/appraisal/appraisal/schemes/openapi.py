"""The loaded schemes, stated in the OpenAPI document.

Scheme ids, circumstance ids and document ids are data (one pack per city), so the
request models cannot list them as ``Literal``s. They mark such fields with
``x-appraisal-enum`` and :func:`declare_schemes` turns each mark into an ``enum`` of the
loaded values. Requests whose caps depend on the scheme (grading, opening a year) become
one schema per scheme, told apart by ``scheme``: a request the schema accepts is never
refused for a cap the schema did not state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from appraisal.grading.points import points_schema
from appraisal.schemes.enums import ENUM_MARK
from appraisal.schemes.history import SchemeHistory
from appraisal.schemes.pack import Scheme
from shared.months import policy_today

_ZERO = Decimal(0)
REF_PREFIX = "#/components/schemas/"


def enum_values(histories: Mapping[str, SchemeHistory]) -> dict[str, list[str]]:
    """Every scheme id, and the circumstance and document ids of every version."""
    versions = [version.scheme for history in histories.values() for version in history.versions.values()]
    return {
        "scheme": sorted(histories),
        "circumstance": sorted(
            {
                item.id
                for scheme in versions
                for item in (*scheme.downgrade_circumstances, *scheme.veto_circumstances)
            }
        ),
        "rules_document": sorted({item.document for scheme in versions for item in scheme.rules_publication}),
    }


def declare_schemes(document: dict[str, Any], histories: Mapping[str, SchemeHistory]) -> dict[str, Any]:
    """Fill every enum mark and split the scheme-dependent request schemas (in place), with the
    limits of the version of each scheme in force today."""
    _fill_enums(document, enum_values(histories))
    today = policy_today()
    schemes = {name: history.current(today) for name, history in histories.items()}
    components = document.get("components", {}).get("schemas", {})
    if "GradingRequest" in components:
        _split_by_scheme(components, "GradingRequest", schemes, _grading_variant)
    if "YearOpen" in components:
        _split_by_scheme(components, "YearOpen", schemes, _year_variant)
    return document


def _fill_enums(node: Any, values: Mapping[str, list[str]]) -> None:
    if isinstance(node, dict):
        mark = node.pop(ENUM_MARK, None)
        if mark is not None:
            _set_enum(node, values[mark])
        for child in node.values():
            _fill_enums(child, values)
    elif isinstance(node, list):
        for child in node:
            _fill_enums(child, values)


def _set_enum(schema: dict[str, Any], values: list[str]) -> None:
    branches = schema.get("anyOf")
    if branches:
        for branch in branches:
            if branch.get("type") == "string":
                _set_enum(branch, values)
        return
    schema["enum"] = values
    for keyword in ("pattern", "minLength", "maxLength"):
        schema.pop(keyword, None)


def _split_by_scheme(
    components: dict[str, Any],
    name: str,
    schemes: Mapping[str, Scheme],
    variant: Callable[[dict[str, Any], dict[str, Any], Scheme], None],
) -> None:
    general = components[name]
    mapping = {}
    options = []
    for scheme_id, scheme in sorted(schemes.items()):
        variant_name = f"{name}_{scheme_id}"
        schema = copy.deepcopy(general)
        schema["title"] = f"{general.get('title', name)} ({scheme_id})"
        schema["properties"]["scheme"] = {
            "type": "string",
            "enum": [scheme_id],
            "description": f"{scheme.name} ({scheme.document})",
        }
        variant(schema, components, scheme)
        components[variant_name] = schema
        mapping[scheme_id] = REF_PREFIX + variant_name
        options.append({"$ref": REF_PREFIX + variant_name})
    components[name] = {
        "title": general.get("title", name),
        "description": general.get("description", "") + " One schema per scheme (its caps).",
        "oneOf": options,
        "discriminator": {"propertyName": "scheme", "mapping": mapping},
    }


def _grading_variant(schema: dict[str, Any], components: dict[str, Any], scheme: Scheme) -> None:
    subject_name = f"GradingSubject_{scheme.scheme}"
    subject = copy.deepcopy(components["GradingSubject"])
    properties = subject["properties"]
    caps = scheme.score.caps
    for field, cap in (
        ("base", caps.base),
        ("ad_hoc", caps.ad_hoc),
        ("bonus", caps.bonus),
        ("deductions", caps.deductions),
    ):
        properties[field] = {**properties[field], **points_schema(cap.max)}
    if scheme.double_counting is None:
        for field in ("provincial_bonus", "provincial_deduction"):
            properties[field] = {
                **properties[field],
                **points_schema(_ZERO),
                "description": f"Not used by {scheme.document}: no double counting; must be 0.",
            }
    properties["downgrades"] = {
        **properties["downgrades"],
        "maximum": len(scheme.downgrade_circumstances),
    }
    subject["title"] = f"GradingSubject ({scheme.scheme})"
    components[subject_name] = subject
    schema["properties"]["subjects"] = {
        **schema["properties"]["subjects"],
        "items": {"$ref": REF_PREFIX + subject_name},
    }


def _year_variant(schema: dict[str, Any], components: dict[str, Any], scheme: Scheme) -> None:
    caps = scheme.score.caps
    for field, cap in (("ad_hoc_cap", caps.ad_hoc), ("deductions_cap", caps.deductions)):
        if cap.set_by_year:
            schema["properties"][field] = {
                "anyOf": [points_schema(cap.max), {"type": "null"}],
                "description": f"{cap.text} ({cap.citation})",
            }
        else:
            schema["properties"][field] = {
                "type": "null",
                "description": f"Fixed by {cap.citation}: leave out.",
            }
