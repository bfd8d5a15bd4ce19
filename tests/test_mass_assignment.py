"""OWASP API3 (mass assignment), table-driven over the merged OpenAPI document.

Read-only fields are the ones an operation answers with but does not take (ids, versions,
timestamps, computed amounts, workflow states). Every request body must close its schema
(``additionalProperties: false``), and a body that carries a read-only field is refused
with a 422 that names the field, before anything is written.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from platformctl.testing import Platform, assert_problem

WRITES = {"post", "put", "patch"}
# A value of the right kind for each path parameter; the record need not exist, because the
# body is checked before any record is looked up.
PATH_VALUES = {
    "year": "2031",
    "subject": "411721",
    "jurisdiction": "411702",
    "plan_id": "panjin-2024-equipment-renewal",
    "number": "11",
    "month": "2031-01",
    "username": "nobody-here",
    "client_id": "nobody-here",
    "scheme": "panjin",
}


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def properties(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Properties of an object schema, or of every object in an anyOf/oneOf."""
    schema = resolve(document, schema)
    found: dict[str, Any] = dict(schema.get("properties", {}))
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found |= properties(document, option)
    return found


def json_body(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return resolve(document, content["application/json"]["schema"])


def answered_fields(document: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    for code, response in operation["responses"].items():
        if code.startswith("2") and "application/json" in response.get("content", {}):
            return set(properties(document, response["content"]["application/json"]["schema"]))
    return set()


def fill(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
    return path


@pytest.fixture(scope="module")
async def document(platform: Platform) -> dict[str, Any]:
    async with platform.client() as client:
        found: dict[str, Any] = (await client.get("/openapi.json")).json()
        return found


def writes(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = json_body(document, operation) if method in WRITES else None
            if body is not None:
                found.append((path, method, operation, body))
    return found


async def test_every_request_body_is_closed(document: dict[str, Any]) -> None:
    bodies = writes(document)
    assert len(bodies) > 30
    open_bodies = []
    for path, method, _, body in bodies:
        objects = [resolve(document, option) for option in body.get("anyOf", []) + body.get("oneOf", [])]
        for schema in objects or [body]:
            if schema.get("type") == "object" and schema.get("additionalProperties") is not False:
                open_bodies.append(f"{method.upper()} {path}")
    assert open_bodies == []


async def test_read_only_fields_in_a_body_are_refused_by_name(
    platform: Platform, document: dict[str, Any]
) -> None:
    checked, accepted = [], []
    async with platform.client(headers=await platform.admin_headers()) as client:
        for path, method, operation, schema in writes(document):
            read_only = sorted(answered_fields(document, operation) - set(properties(document, schema)))
            if not read_only:
                continue
            field = "id" if "id" in read_only else read_only[0]
            sent: dict[str, Any] = {field: "00000000-0000-0000-0000-000000000000"}
            if "discriminator" in schema:  # name a variant, so the variant's own fields are checked
                sent[schema["discriminator"]["propertyName"]] = next(iter(schema["discriminator"]["mapping"]))
            response = await client.request(method, fill(path), json=sent)
            named = {error["field"] for error in response.json().get("errors", [])}
            if response.status_code != 422 or not any(name.endswith(f".{field}") for name in named):
                accepted.append((method.upper(), path, field, response.status_code, response.text[:300]))
                continue
            assert_problem(response, 422)
            checked.append(f"{method.upper()} {path} {field}")
    assert accepted == []
    assert len(checked) > 20, checked
