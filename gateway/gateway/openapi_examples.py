"""An example on every JSON request body and every JSON success answer of the merged document.

The contract endpoints carry the specification's own examples, written where the route is
declared (``shared.examples``) and checked against the live answers by the suite. Every
other operation gets one derived from its schema here: a field's own ``examples`` or
``default`` first, then a value of its type, format and pattern that reads like the
platform's data (jurisdiction 211100, month 2024-07, amounts as decimal strings).
They are the media type's ``examples`` entry ``derived`` (the specification's own are its
``example``). tests/test_openapi_completeness.py checks each example against its schema.
"""

from __future__ import annotations

import re
from typing import Any

SCHEMA_REF = "#/components/schemas/"
JSON_MEDIA = ("application/json", "application/x-www-form-urlencoded")
MAX_DEPTH = 12
DERIVED = "derived"
SUMMARY = "Derived from the schema (field examples, defaults, typical values)"
# strings tried, in order, against a pattern the field's name does not settle
CANDIDATES = (
    "example",
    "2024-07",
    "800.00",
    "211100",
    "1.5",
    "0",
    "2024-07-01",
    "21110219500101123X",
    "https://example.org/hooks/platform",
    "0123456789abcdef0123456789abcdef",
    "2024-Q3",
    "json",
    "*",
)
FORMATS = {
    "date": "2024-07-01",
    "date-time": "2024-07-01T09:30:00+08:00",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "email": "staff@example.org",
    "uri": "https://example.org/hooks/platform",
}
# what a field's name says about its value (tried before the candidates)
BY_NAME = (
    ("jurisdiction", "211100"),
    ("citizen_id", "21110219500101123X"),
    ("month", "2024-07"),
    ("url", "https://example.org/hooks/platform"),
    ("trace", "0123456789abcdef0123456789abcdef"),
)


def add_examples(document: dict[str, Any]) -> None:
    """Give every JSON request body and 2xx JSON answer without an example one of its schema."""
    schemas = document.get("components", {}).get("schemas", {})
    maker = _Maker(schemas)
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            body = operation.get("requestBody", {})
            sections = [body] if body else []
            sections += [
                answer
                for status, answer in operation.get("responses", {}).items()
                if str(status).startswith("2")
            ]
            for section in sections:
                for media, content in section.get("content", {}).items():
                    if media not in JSON_MEDIA or "example" in content or "examples" in content:
                        continue
                    if "schema" in content:
                        # beside the specification's own (``example``), told apart by its name
                        content["examples"] = {
                            DERIVED: {"summary": SUMMARY, "value": maker.make(content["schema"], "", 0)}
                        }


class _Maker:
    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while isinstance(schema.get("$ref"), str) and schema["$ref"].startswith(SCHEMA_REF):
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            target = self.schemas.get(schema["$ref"].removeprefix(SCHEMA_REF), {})
            schema = {**target, **{k: v for k, v in siblings.items() if k in ("examples", "default")}}
        return schema

    def make(self, schema: Any, field: str, depth: int) -> Any:
        if not isinstance(schema, dict):
            return None
        schema = self.resolve(schema)
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        if "example" in schema:
            return schema["example"]
        if "const" in schema:
            return schema["const"]
        if schema.get("default") is not None:
            return schema["default"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for combined in ("oneOf", "anyOf"):
            if isinstance(schema.get(combined), list):
                branches = [b for b in schema[combined] if self.resolve(b).get("type") != "null"]
                return self.make((branches or schema[combined])[0], field, depth)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                value = self.make(part, field, depth)
                if isinstance(value, dict):
                    merged.update(value)
                elif not merged:
                    return value
            return merged
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            return self.object(schema, depth)
        if kind == "array":
            item = self.make(schema.get("items", {}), field, depth + 1)
            return [item] * max(1, int(schema.get("minItems", 1))) if depth < MAX_DEPTH else []
        if kind == "integer":
            return self.number(schema, field, 1)
        if kind == "number":
            return self.number(schema, field, 1.5)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self.string(schema, field)

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        found: dict[str, Any] = {}
        for name, sub in properties.items():
            if depth >= MAX_DEPTH and name not in required:
                continue
            found[name] = self.make(sub, name, depth + 1)
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, dict) and depth < MAX_DEPTH:
            key = self.make(schema.get("propertyNames", {"type": "string"}), "key", depth + 1)
            found[str(key)] = self.make(extra, "", depth + 1)
        return found

    def number(self, schema: dict[str, Any], field: str, fallback: float) -> Any:
        value: float = 2024 if "year" in field else fallback
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if low is not None and value <= low:
            value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
        if high is not None and value >= high:
            value = high - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
        return int(value) if schema.get("type") == "integer" else value

    def string(self, schema: dict[str, Any], field: str) -> str:
        if schema.get("format") == "date" and "birth" in field:
            return "1933-06-01"
        if schema.get("format") in FORMATS:
            return FORMATS[schema["format"]]
        pattern = schema.get("pattern")
        hinted = [value for hint, value in BY_NAME if hint in field]
        text = field.replace("_", " ") or "example"
        tried: list[str] = [*hinted, *((text,) if pattern is None else ()), *CANDIDATES]
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        for value in tried:
            if pattern is not None and re.search(pattern, value) is None:
                continue
            if len(value) < low or (high is not None and len(value) > high):
                continue
            return value
        return "x" * max(1, low)
