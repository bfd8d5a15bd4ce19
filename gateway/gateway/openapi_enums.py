"""Named enum schemas in the merged OpenAPI document.

Pydantic writes a ``Literal[...]`` field (and a query parameter of that type) as an inline
``enum``; client generators then make one anonymous union per field, and the same set of
values (grades A–D, the programs, the scopes) is repeated wherever it is used. Here every
inline enum of two or more values becomes a component, one per service and set of values,
named after the field that holds it (``WelfareProgram``, ``AppraisalGrade``); when two
different sets would take one name, the one used most keeps it and the others add the
schema holding the field (``WelfarePersonCalculationProgram``). The wire values are
unchanged: only where the values are written moves.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

SCHEMA_REF = "#/components/schemas/"
SERVICES = ("Appraisal", "Eldercare", "Renewal", "Welfare")
# keys an inline enum node carries that belong to the enum itself (the rest stay beside $ref)
ENUM_KEYS = frozenset({"type", "enum"})

EnumKey = tuple[str, str, tuple[Any, ...]]  # (service prefix, type, values)


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


def _singular(field: str) -> str:
    if field.endswith("ies"):
        return field[:-3] + "y"
    if field.endswith("s") and not field.endswith("ss"):
        return field[:-1]
    return field


def _service_of_schema(name: str) -> str:
    return next((prefix for prefix in SERVICES if name.startswith(prefix)), "")


def _service_of_path(path: str) -> str:
    parts = path.split("/")
    return parts[2].capitalize() if len(parts) > 2 and parts[1] == "api" else ""


def _is_inline_enum(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and "$ref" not in node
        and isinstance(node.get("enum"), list)
        and len(node["enum"]) >= 2
        and all(isinstance(value, str | int) and not isinstance(value, bool) for value in node["enum"])
    )


def _key(service: str, node: dict[str, Any]) -> EnumKey:
    return (service, str(node.get("type", "")), tuple(node["enum"]))


class _Found:
    """Every inline enum: where it is (the node, its owner schema, the field or parameter name)."""

    def __init__(self) -> None:
        self.sites: dict[EnumKey, list[tuple[dict[str, Any], str, str]]] = defaultdict(list)

    def walk(self, node: Any, service: str, owner: str, field: str) -> None:
        if isinstance(node, dict):
            if _is_inline_enum(node):
                self.sites[_key(service, node)].append((node, owner, field))
                return
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    for name, schema in value.items():
                        self.walk(schema, service, owner, name)
                elif key in ("examples", "example", "default", "const", "enum", "x-enum-varnames"):
                    continue
                elif key == "items":  # one of the list's values: scopes → Scope
                    self.walk(value, service, owner, _singular(field))
                else:
                    self.walk(value, service, owner, field)
        elif isinstance(node, list):
            for item in node:
                self.walk(item, service, owner, field)


def name_enums(document: dict[str, Any]) -> None:
    """Replace every inline enum of the document by a ``$ref`` to a named enum component."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    found = _Found()
    for name, schema in schemas.items():
        found.walk(schema, _service_of_schema(name), name, "")
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            service = _service_of_path(path)
            for parameter in operation.get("parameters", []):
                found.walk(parameter.get("schema"), service, "", parameter.get("name", ""))
            found.walk(operation.get("requestBody"), service, "", "")
            found.walk(operation.get("responses"), service, "", "")
    # one name per (service, values): the field most often holding it; colliding names grow
    proposed: dict[EnumKey, str] = {}
    for key, sites in found.sites.items():
        fields = Counter(field for _, _, field in sites if field)
        if fields:
            proposed[key] = key[0] + _camel(fields.most_common(1)[0][0])
        else:  # the keys of a mapping, or an unnamed place: the schema holding it
            proposed[key] = key[0] + _camel(sites[0][1].removeprefix(key[0])) + "Value"
    # of the sets that would take one name, the one used most keeps it (then the longer one)
    keeps: dict[str, EnumKey] = {}
    for key, name in sorted(
        proposed.items(), key=lambda item: (-len(found.sites[item[0]]), -len(item[0][2]), item[0][2])
    ):
        keeps.setdefault(name, key)
    names: dict[EnumKey, str] = {}
    for key, name in sorted(proposed.items(), key=lambda item: (item[1], item[0][1], item[0][2])):
        if keeps[name] != key or name in schemas:
            node, owner, field = found.sites[key][0]
            owner_part = _camel(owner.removeprefix(key[0])) if owner else ""
            name = key[0] + owner_part + _camel(field or "value")
        base, number = name, 2
        while name in schemas or name in names.values():
            name, number = f"{base}{number}", number + 1
        names[key] = name
    for key, name in sorted(names.items(), key=lambda item: item[1]):
        _, kind, values = key
        component: dict[str, Any] = {"title": name, "enum": list(values)}
        if kind:
            component["type"] = kind
        schemas[name] = component
        for node, _, _ in found.sites[key]:
            kept = {k: v for k, v in node.items() if k not in ENUM_KEYS}
            node.clear()
            node["$ref"] = SCHEMA_REF + name
            node.update(kept)
